// Package backgroundjobs is the code of the recipe "Background jobs"
// (docs/recipes/background-jobs.md): a job that runs outside any request
// loads a session by id, changes it and saves it, while the user's own
// requests go on changing the same session.
package backgroundjobs
