// Package readme checks that the Go programs in the repository's README
// build, so that a user who copies a quick start gets a working program.
package readme
