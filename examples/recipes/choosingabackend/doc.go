// Package choosingabackend is the code of the recipe "Choosing a backend"
// (docs/recipes/choosing-a-backend.md): one function that opens whichever
// store a deployment names, so that the choice is configuration.
package choosingabackend
