// Package adapters holds nothing but its subdirectories, one framework
// adapter each (m2mhttp for net/http, m2mecho for Echo v4, m2mgin for Gin),
// and the cross-adapter tests: the same table of scenarios run against all
// three through real HTTP servers backed by the real verifier and the clerktest
// emulator, asserting identical answers, and benchmarks on a warm cache.
package adapters
