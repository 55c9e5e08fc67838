// Package logouteverywhere is the code of the recipe "Log out everywhere"
// (docs/recipes/log-out-everywhere.md): a user's list of devices, ending one
// of them, and ending all the others after a password change, across a
// cookie Manager and a header-token Manager that share a store.
package logouteverywhere
