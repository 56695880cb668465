package verifier_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/verifier"
)

// TestOneCallPerColdToken: 1,000 concurrent Verify calls on one cold token make
// exactly one call to Clerk, and 100,000 hits after it make none.
func TestOneCallPerColdToken(t *testing.T) {
	e := newEnv(t)
	v := e.verifier()
	tok := e.token(clerkapi.CreateParams{})
	// Hold the call open long enough for every goroutine to join it.
	e.srv.InjectOn(clerktest.EndpointVerify, clerktest.Latency(300*time.Millisecond))

	const n = 1000
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		errs  = make(chan error, n)
		ids   = make(chan string, n)
	)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			got, err := v.Verify(context.Background(), tok)
			if err != nil {
				errs <- err
				return
			}
			ids <- got.ID
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	close(ids)
	for err := range errs {
		t.Fatalf("a concurrent Verify failed: %v", err)
	}
	first := ""
	for id := range ids {
		if first == "" {
			first = id
		} else if id != first {
			t.Fatalf("got token IDs %q and %q, want one", first, id)
		}
	}
	if got := e.verifyCalls(); got != 1 {
		t.Fatalf("got %d verify calls for %d concurrent Verify, want 1", got, n)
	}
	st := v.Stats()
	if st.UpstreamCalls != 1 || st.Hits+st.Misses != n {
		t.Errorf("got %d upstream calls, %d hits + %d misses; want 1 and %d", st.UpstreamCalls, st.Hits, st.Misses, n)
	}
	if st.SharedWaits < n/2 {
		t.Errorf("got %d shared waits, want most of the %d callers to have waited for the one call", st.SharedWaits, n)
	}

	e.srv.ClearFaults()
	for i := range 100_000 {
		if _, err := v.Verify(context.Background(), tok); err != nil {
			t.Fatalf("hit %d: %v", i, err)
		}
	}
	if got := e.verifyCalls(); got != 1 {
		t.Errorf("got %d verify calls after 100,000 hits, want still 1", got)
	}
}

// TestCanceledWaiter: a waiter whose context ends returns at once with
// ctx.Err(); the shared call goes on and answers the other waiters.
func TestCanceledWaiter(t *testing.T) {
	const latency = 500 * time.Millisecond
	e := newEnv(t)
	v := e.verifier()
	tok := e.token(clerkapi.CreateParams{})
	e.srv.InjectOn(clerktest.EndpointVerify, clerktest.Latency(latency))

	patient := make(chan error, 1)
	go func() {
		_, err := v.Verify(context.Background(), tok)
		patient <- err
	}()
	waitFor(t, func() bool { return e.verifyCalls() == 1 })

	ctx, cancel := context.WithCancel(context.Background())
	impatient := make(chan error, 1)
	began := time.Now()
	go func() {
		_, err := v.Verify(ctx, tok)
		impatient <- err
	}()
	waitFor(t, func() bool { return v.Stats().Misses == 2 }) // it missed the cache and is joining the flight
	cancel()
	if err := <-impatient; err != context.Canceled {
		t.Errorf("canceled waiter got %v, want context.Canceled itself", err)
	}
	if waited := time.Since(began); waited >= latency {
		t.Errorf("canceled waiter returned after %v, want well before the call's %v", waited, latency)
	}
	if err := <-patient; err != nil {
		t.Errorf("other waiter got %v, want the token", err)
	}
	if got := e.verifyCalls(); got != 1 {
		t.Errorf("got %d verify calls, want 1", got)
	}
	if st := v.Stats(); st.Canceled != 1 {
		t.Errorf("got %d canceled in stats, want 1", st.Canceled)
	}
	// The shared call stored its answer although a waiter left.
	if _, err := v.Verify(context.Background(), tok); err != nil || e.verifyCalls() != 1 {
		t.Errorf("Verify after the flight = %v with %d calls, want a cache hit", err, e.verifyCalls())
	}
}

// TestDeadlineWaiter: a caller whose deadline passes gets DeadlineExceeded;
// the shared call is not cut short by it.
func TestDeadlineWaiter(t *testing.T) {
	e := newEnv(t)
	v := e.verifier(verifier.WithTimeout(5 * time.Second))
	tok := e.token(clerkapi.CreateParams{})
	e.srv.InjectOn(clerktest.EndpointVerify, clerktest.Latency(300*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := v.Verify(ctx, tok); err != context.DeadlineExceeded {
		t.Fatalf("got %v, want context.DeadlineExceeded itself", err)
	}
	// The detached call completes and fills the cache.
	waitFor(t, func() bool { return v.Stats().CacheEntries == 1 })
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Errorf("Verify after the detached call: %v", err)
	}
	if got := e.verifyCalls(); got != 1 {
		t.Errorf("got %d verify calls, want 1", got)
	}
}

// TestCloseCancelsFlight: Close ends a call in flight; its waiters fail closed.
func TestCloseCancelsFlight(t *testing.T) {
	e := newEnv(t)
	v := e.verifier(verifier.WithTimeout(10 * time.Second))
	tok := e.token(clerkapi.CreateParams{})
	e.srv.InjectOn(clerktest.EndpointVerify, clerktest.Hang())
	done := make(chan error, 1)
	go func() {
		_, err := v.Verify(context.Background(), tok)
		done <- err
	}()
	waitFor(t, func() bool { return e.verifyCalls() == 1 })
	v.Close()
	select {
	case err := <-done:
		if !errors.Is(err, verifier.ErrUnavailable) || !errors.Is(err, verifier.ErrClosed) {
			t.Errorf("waiter got %v, want ErrUnavailable (ErrClosed)", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("waiter still blocked 5s after Close")
	}
}

// TestConcurrentMixed runs hits, misses, invalidations and garbage together
// under the race detector.
func TestConcurrentMixed(t *testing.T) {
	e := newEnv(t)
	v := e.verifier(verifier.WithCacheSize(8), verifier.WithCallBudget(0, 0)) // misses on a frozen clock
	tokens := make([]string, 4)
	for i := range tokens {
		tokens[i] = e.token(clerkapi.CreateParams{})
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				tok := tokens[(g+i)%len(tokens)]
				switch i % 10 {
				case 0:
					v.Invalidate(tok)
				case 1:
					_, _ = v.Verify(context.Background(), unknownToken(g*1000+i))
				case 2:
					_, _ = v.Verify(context.Background(), "garbage")
				default:
					if _, err := v.Verify(context.Background(), tok); err != nil {
						t.Errorf("Verify(valid token): %v", err)
						return
					}
				}
				_ = v.Stats()
			}
		}()
	}
	wg.Wait()
	if n := v.Stats().CacheEntries; n > 8 {
		t.Errorf("got %d cache entries, want at most 8", n)
	}
}

// waitFor polls cond (real time; for conditions on other goroutines, not on
// the clock) for up to 5 seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition not met within 5s")
}
