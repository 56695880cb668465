// Package readme has no code: its test builds the Go blocks of the
// repository's README.md against the checkout, so that the README's examples
// compile with the current API and its "Use it in your service" replace
// lines are complete. It lives in the root module so that `make test` and CI
// run it, and under internal/ so that nothing can import it.
package readme
