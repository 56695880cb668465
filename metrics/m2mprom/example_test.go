package m2mprom_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/metrics/m2mprom"
	"github.com/m2mauth/m2mauth/verifier"
)

// A Verifier, its Observer and its Collector on one registry; serve the
// registry with promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).
func Example() {
	clerk := clerktest.NewServer() // stands in for Clerk here
	defer clerk.Close()
	callee := clerk.CreateMachine("reports-service")
	caller := clerk.CreateMachine("billing-worker", callee.ID)
	tok, _ := clerk.CreateToken(caller.ID, clerkapi.CreateParams{})

	obs, err := m2mprom.NewObserver()
	if err != nil {
		panic(err)
	}
	v, err := verifier.New(clerk.SecretKey, verifier.WithBaseURL(clerk.URL), verifier.WithObserver(obs))
	if err != nil {
		panic(err)
	}
	defer v.Close()
	c, err := m2mprom.NewCollector(v, m2mprom.WithObserver(obs))
	if err != nil {
		panic(err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)

	for range 3 { // one miss, two hits
		if _, err := v.Verify(context.Background(), tok.Token, ""); err != nil {
			panic(err)
		}
	}
	n, _ := testutil.GatherAndCount(reg, "m2mauth_upstream_duration_seconds")
	fmt.Println("upstream latency series:", n)
	err = testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP m2mauth_cache_hits_total Verifications answered from a positive cache entry.
# TYPE m2mauth_cache_hits_total counter
m2mauth_cache_hits_total 2
# HELP m2mauth_cache_misses_total Verifications that found no live cache entry.
# TYPE m2mauth_cache_misses_total counter
m2mauth_cache_misses_total 1
`), "m2mauth_cache_hits_total", "m2mauth_cache_misses_total")
	fmt.Println("hits and misses as expected:", err == nil)
	// Output:
	// upstream latency series: 1
	// hits and misses as expected: true
}
