// Package migrating is the code of the recipe "Moving from scs,
// gorilla/sessions or gin-contrib/sessions"
// (docs/recipes/moving-from-other-libraries.md): for each library, the
// cloakroom side of an application written for it, with the library's calls
// replaced.
package migrating
