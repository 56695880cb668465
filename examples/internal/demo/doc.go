// Package demo is what the example services (examples/nethttp, examples/echo,
// examples/gin) and the tour share: configuration from the environment, the
// embedded Clerk emulator when no key is set, the verifier and
// authenticators, the JSON payloads of the routes, an http.Server with a
// clean shutdown, and the main/run skeleton (Main, Run; Command for the tour
// and examples/caller) so that each example's main.go holds only its routes
// and handlers. It is internal to the examples and not a stable API.
//
// A Service is safe for concurrent use once Setup returns; Close it once.
package demo
