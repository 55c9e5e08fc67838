// Package websockets is the code of the recipe "Websockets"
// (docs/recipes/websockets.md): the upgrade request is authenticated with
// its session, and changes made after the upgrade, when no response can
// carry a cookie, go through Manager.Load and Manager.Save.
package websockets
