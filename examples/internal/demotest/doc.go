// Package demotest tests the example services (examples/nethttp,
// production, echo, echo5, gin) end to end, the same way for each: Check
// (CheckQuickStart for examples/nethttp, which serves fewer routes) calls
// the example's run function with ADDR=127.0.0.1:0, waits for its last
// start-up line, "Listening on <url>" (no sleeps, no timers: a hang is
// caught by go test -timeout), calls the routes over real HTTP — with the
// embedded emulator, and configured as against a real Clerk with a Clerk
// secret key and with a machine key, and their GET /readyz and GET /metrics
// after a scripted run — then cancels run's context and expects run to
// return nil. Start runs an example for its own tests. The package also
// holds the tests of clerktest.StartDemo, which the examples call.
//
// It is for the examples' tests only and is not a stable API. Check runs
// subtests: call it from the test's goroutine.
package demotest
