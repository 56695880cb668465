//go:build !race

package rediscache_test

// raceSlowdown scales the budgets of timing-sensitive tests under -race.
const raceSlowdown = 1
