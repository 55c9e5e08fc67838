// Package headertokens is the code of the recipe "API clients with header
// tokens" (docs/recipes/header-tokens.md): a server whose session token
// travels as a bearer token instead of a cookie, and the client side that
// takes the token when the server hands it out and sends it back.
package headertokens
