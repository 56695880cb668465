//go:build !race

package readme

// raceFlags are the build flags of the blocks' go vet and go test: the ones
// this test was built with, so that they reuse its build cache.
var raceFlags []string
