//go:build race

package verifier_test

// junkFlood is how many junk tokens TestJunkFloodKeepsValidToken sends: 20
// times its cache under -race, where each costs about ten times as much.
const junkFlood = 20_000
