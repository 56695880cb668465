// Package testkit holds the fixtures that clerktest's own tests and the
// conformance module's tests share: an emulated instance with three machines
// and a client per key, raw HTTP cases, and a token minted or the test fails.
// It is imported by tests only. Safe for concurrent use as far as the
// emulator is.
package testkit
