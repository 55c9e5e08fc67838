// Package severalsessions is the code of the recipe "Several sessions per
// request" (docs/recipes/several-sessions.md): a login session kept in files
// and a short-lived cart kept in memory, each with its own cookie, serving
// the same requests.
package severalsessions
