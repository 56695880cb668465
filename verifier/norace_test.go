//go:build !race

package verifier_test

// junkFlood is how many junk tokens TestJunkFloodKeepsValidToken sends: 100
// times its cache.
const junkFlood = 100_000
