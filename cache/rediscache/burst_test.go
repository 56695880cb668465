package rediscache_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/m2mauth/m2mauth/cache/rediscache"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/verifier"
)

// The cold-deploy burst of issue 16, as a user would run it: 4 replicas on
// one redis-server, each with NewFromURL and the Verifier's default options,
// Clerk answering in 5 ms, 50 new tokens × 40 concurrent requests spread over
// the replicas (2,000 requests at once): at most 52 calls to Clerk (one per
// token, a little slack for a flight that found the shared cache busy), and a
// replica started afterwards makes none.
//
//	go test -run TestColdBurst -v ./cache/rediscache   (prints the Stats)
//
// Under the race detector the budget is raised (raceSlowdown).
func TestColdBurst(t *testing.T) {
	c := newCluster(t)
	// Under the race detector, 2,000 goroutines on two cores starve the
	// in-process Clerk itself: a smaller burst tests the same sharing.
	replicas, tokens, perToken := 4, 50, 40
	if raceSlowdown > 1 {
		tokens, perToken = 20, 20
	}
	replica := func() *verifier.Verifier {
		// The race detector slows everything down five- to tenfold: the
		// budget follows, so that what is tested stays the sharing.
		sc, rdb, err := rediscache.NewFromURL("redis://"+c.redis.Addr+"/0", rediscache.WithTimeout(raceSlowdown*rediscache.DefaultTimeout))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { rdb.Close() })
		v, _ := c.replicaOn(sc, verifier.WithLimits(verifier.Limits{Timeout: raceSlowdown * 5 * time.Second}))
		subscribed(t, v)
		return v
	}
	vs := make([]*verifier.Verifier, replicas)
	for i := range vs {
		vs[i] = replica()
	}
	toks := make([]string, tokens)
	for i := range toks {
		toks[i] = c.token().Token
	}
	c.srv.InjectOn(clerktest.EndpointVerify, clerktest.Latency(5*time.Millisecond))
	start := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, tokens*perToken)
	for _, tok := range toks {
		for i := range perToken {
			wg.Go(func() {
				<-start
				if _, err := vs[i%replicas].Verify(context.Background(), tok, ""); err != nil {
					errs <- err
				}
			})
		}
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Verify: %v", err)
	}
	calls := c.srv.Calls(clerktest.EndpointVerify)
	for i, v := range vs {
		s := v.Stats()
		t.Logf("replica %d: SharedHits %d, SharedMisses %d, ClusterWaits %d, SharedErrors %d, SharedBusy %d, UpstreamCalls %d",
			i, s.SharedHits, s.SharedMisses, s.ClusterWaits, s.SharedErrors, s.SharedBusy, s.UpstreamCalls)
		if s.SharedErrors != 0 {
			t.Errorf("replica %d: SharedErrors %d, want 0 (a burst is not an outage)", i, s.SharedErrors)
		}
	}
	t.Logf("Clerk verify calls for %d tokens × %d requests over %d replicas: %d", tokens, perToken, replicas, calls)
	if calls > int64(tokens+2) {
		t.Errorf("verify calls: got %d, want at most %d (one per token)", calls, tokens+2)
	}
	fresh := replica()
	for _, tok := range toks {
		if _, err := fresh.Verify(context.Background(), tok, ""); err != nil {
			t.Errorf("fresh replica: %v", err)
		}
	}
	if got := c.srv.Calls(clerktest.EndpointVerify) - calls; got != 0 {
		t.Errorf("verify calls of a replica started after the burst: got %d, want 0 (every result shared)", got)
	}
}
