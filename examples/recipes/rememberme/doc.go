// Package rememberme is the code of the recipe "Remember me"
// (docs/recipes/remember-me.md): a login form's "remember me" box that keeps
// one session for 30 days, while others end with the browser or after 12
// idle hours.
package rememberme
