// Package recipes holds the code of the recipes in docs/recipes, one
// package each, as runnable examples: each recipe's Markdown quotes its
// package's source verbatim, and this package's test fails when the two
// drift apart.
package recipes
