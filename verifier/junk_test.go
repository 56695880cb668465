package verifier_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/verifier"
)

// inProcess serves HTTP requests with a handler in the test's own goroutine:
// the emulator without a loopback round trip, so that 100,000 calls to it take
// seconds under -race.
type inProcess struct{ h http.Handler }

func (t inProcess) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	if r.Body != nil {
		r.Body.Close()
	}
	return rec.Result(), nil
}

// TestJunkFloodKeepsValidToken: after a valid token is verified, junkFlood
// (100,000; 20,000 under -race) distinct well-formed tokens Clerk never
// issued (404 each, so each is cached negatively, in a cache far too small
// for them) leave the valid token a cache hit: verifying it again makes no
// call to Clerk.
func TestJunkFloodKeepsValidToken(t *testing.T) {
	const size, junk = 1000, junkFlood
	e := newEnv(t)
	// Without the overall call budget: every junk token must reach Clerk and
	// be cached as refused (the budget would refuse most of them first).
	v := e.verifier(verifier.WithCacheSize(size), verifier.WithLimits(verifier.Limits{CallRate: -1}),
		verifier.WithHTTPClient(&http.Client{Transport: inProcess{e.srv}}))
	ctx := context.Background()
	valid := e.token(clerkapi.CreateParams{})
	if _, err := v.Verify(ctx, valid, ""); err != nil {
		t.Fatalf("Verify(valid): %v", err)
	}
	// The flood comes from several goroutines at once, as from many callers
	// (and to keep the test quick under -race).
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < junk; i += workers {
				if _, err := v.Verify(ctx, unknownToken(i+1), ""); !errors.Is(err, verifier.ErrInvalidToken) {
					t.Errorf("Verify(junk %d) = %v, want ErrInvalidToken", i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	calls := e.verifyCalls()
	if calls != 1+junk {
		t.Fatalf("got %d verify calls, want %d (the valid token and each junk token once)", calls, 1+junk)
	}
	before := v.Stats()
	if before.CacheEntries > size {
		t.Errorf("got %d cache entries, want at most %d", before.CacheEntries, size)
	}
	if _, err := v.Verify(ctx, valid, ""); err != nil {
		t.Fatalf("Verify(valid) after the flood: %v", err)
	}
	if got := e.verifyCalls(); got != calls {
		t.Errorf("verifying the valid token after the flood made %d calls to Clerk, want 0 (a cache hit)", got-calls)
	}
	if after := v.Stats(); after.Hits != before.Hits+1 {
		t.Errorf("got %d cache hits, want %d", after.Hits, before.Hits+1)
	}
}
