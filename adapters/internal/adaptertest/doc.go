// Package adaptertest is test support only: the fixtures the adapters' own
// tests and benchmarks share (a fixed-token verifier double, the table of
// middleware cases every adapter must answer alike, and an allocation-free
// ResponseWriter for benchmarks). It is imported by _test.go files under
// adapters/ and by nothing else; it is not a stable API.
//
// Everything here is safe for concurrent use: the values are read-only and
// Discard only reads its header map.
package adaptertest
