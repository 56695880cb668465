// Package conformance holds the cross-adapter tests of m2mauth: one table of
// scenarios run against every HTTP adapter (net/http, Echo v4, Echo v5, Gin;
// m2mgrpc answers in gRPC status codes and is tested in its own module) through
// real HTTP servers backed by the real verifier and the clerktest emulator,
// asserting identical status, headers and body, plus benchmarks of each adapter
// on a warm cache against the same handler wired by hand.
//
// It is a module of its own (github.com/m2mauth/m2mauth/adapters/conformance)
// so that the frameworks it needs never enter the root module's graph. It
// exports nothing.
package conformance
