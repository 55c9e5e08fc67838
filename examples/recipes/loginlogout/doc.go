// Package loginlogout is the code of the recipe "Log in and log out"
// (docs/recipes/login-logout.md): a new session id at login, so that an id
// planted before it is worth nothing, and a logout that deletes the session.
package loginlogout
