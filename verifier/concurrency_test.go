package verifier_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/verifier"
)

// TestOneCallPerColdToken: 1,000 concurrent Verify calls on one cold token make
// exactly one call to Clerk, and 100,000 hits after it make none. The call is
// held at the emulator until it has arrived; callers that come after its end
// find the answer in the cache (or in the call's own re-check of it), so the
// count holds however they interleave with it.
func TestOneCallPerColdToken(t *testing.T) {
	e := newEnv(t)
	v := e.verifier()
	tok := e.token(clerkapi.CreateParams{})
	gate := clerktest.NewGate()
	e.srv.InjectOn(clerktest.EndpointVerify, gate)

	const n = 1000
	var (
		wg   sync.WaitGroup
		errs = make(chan error, n)
		ids  = make(chan string, n)
	)
	for range n {
		wg.Go(func() {
			got, err := v.Verify(context.Background(), tok, "")
			if err != nil {
				errs <- err
				return
			}
			ids <- got.ID
		})
	}
	<-gate.Arrived(1) // the one call is at the emulator, held
	gate.Release()
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
	if got := gate.Count(); got != 1 {
		t.Errorf("got %d requests at the gate, want 1", got)
	}
	if st := v.Stats(); st.UpstreamCalls != 1 || st.Hits+st.Misses != n {
		t.Errorf("got %d upstream calls, %d hits + %d misses; want 1 and %d", st.UpstreamCalls, st.Hits, st.Misses, n)
	}

	e.srv.ClearFaults()
	for i := range 100_000 {
		if _, err := v.Verify(context.Background(), tok, ""); err != nil {
			t.Fatalf("hit %d: %v", i, err)
		}
	}
	if got := e.verifyCalls(); got != 1 {
		t.Errorf("got %d verify calls after 100,000 hits, want still 1", got)
	}
}

// TestSharedWaits: while the call for a cold token is held, every other
// concurrent Verify of it misses the cache and waits for that call (a shared
// wait) instead of asking Clerk; all get its answer. In a synctest bubble,
// synctest.Wait says when every caller is waiting.
func TestSharedWaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 1000
		hold := make(chan struct{})
		f := &fakeClerk{mode: "ok", hold: hold}
		v := newFakeVerifier(t, f)
		defer v.Close()
		tok := unknownToken(1)
		errs := make(chan error, n)
		for range n {
			go func() {
				_, err := v.Verify(context.Background(), tok, "")
				errs <- err
			}()
		}
		synctest.Wait() // one caller's call is held, the others wait for it
		if got := f.count(); got != 1 {
			t.Errorf("got %d calls to Clerk while %d callers wait, want 1", got, n)
		}
		if st := v.Stats(); st.Misses != n || st.InFlight != 1 {
			t.Errorf("got %d misses and %d calls in flight, want %d and 1", st.Misses, st.InFlight, n)
		}
		close(hold)
		for range n {
			if err := <-errs; err != nil {
				t.Errorf("a waiter got %v, want the token", err)
			}
		}
		if st := v.Stats(); st.SharedWaits != n-1 || st.UpstreamCalls != 1 || f.count() != 1 {
			t.Errorf("got %d shared waits, %d upstream calls, %d calls to Clerk; want %d, 1 and 1", st.SharedWaits, st.UpstreamCalls, f.count(), n-1)
		}
	})
}

// TestCanceledWaiter: a waiter whose context ends returns at once with
// ctx.Err(); the shared call goes on and answers the other waiters.
func TestCanceledWaiter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hold := make(chan struct{})
		f := &fakeClerk{mode: "ok", hold: hold}
		v := newFakeVerifier(t, f)
		defer v.Close()
		tok := unknownToken(1)

		patient := make(chan error, 1)
		go func() {
			_, err := v.Verify(context.Background(), tok, "")
			patient <- err
		}()
		synctest.Wait() // its call is held
		ctx, cancel := context.WithCancel(context.Background())
		impatient := make(chan error, 1)
		go func() {
			_, err := v.Verify(ctx, tok, "")
			impatient <- err
		}()
		synctest.Wait() // it missed the cache and waits for the call
		if st := v.Stats(); st.Misses != 2 || f.count() != 1 {
			t.Fatalf("got %d misses and %d calls to Clerk before the cancel, want 2 and 1", st.Misses, f.count())
		}

		began := time.Now() // the bubble's clock: it moves only when every goroutine waits
		cancel()
		if err := <-impatient; err != context.Canceled {
			t.Errorf("canceled waiter got %v, want context.Canceled itself", err)
		}
		if waited := time.Since(began); waited != 0 {
			t.Errorf("canceled waiter returned after %v, want at once", waited)
		}
		synctest.Wait()
		select {
		case err := <-patient:
			t.Fatalf("the other waiter returned (%v) when one left, want it waiting for the call", err)
		default:
		}

		close(hold)
		if err := <-patient; err != nil {
			t.Errorf("other waiter got %v, want the token", err)
		}
		if got := f.count(); got != 1 {
			t.Errorf("got %d calls to Clerk, want 1", got)
		}
		if st := v.Stats(); st.Canceled != 1 || st.SharedWaits != 0 {
			t.Errorf("got %d canceled and %d shared waits in stats, want 1 and 0", st.Canceled, st.SharedWaits)
		}
		// The shared call stored its answer although a waiter left.
		if _, err := v.Verify(context.Background(), tok, ""); err != nil || f.count() != 1 {
			t.Errorf("Verify after the flight = %v with %d calls, want a cache hit", err, f.count())
		}
	})
}

// TestDeadlineWaiter: a caller whose deadline passes gets DeadlineExceeded at
// its deadline; the shared call it started is not cut short by it, and fills
// the cache.
func TestDeadlineWaiter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hold := make(chan struct{})
		f := &fakeClerk{mode: "ok", hold: hold}
		v := newFakeVerifier(t, f, verifier.WithLimits(verifier.Limits{Timeout: 5 * time.Second}))
		defer v.Close()
		tok := unknownToken(1)
		const deadline = 50 * time.Millisecond
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		defer cancel()
		began := time.Now()
		if _, err := v.Verify(ctx, tok, ""); err != context.DeadlineExceeded {
			t.Fatalf("got %v, want context.DeadlineExceeded itself", err)
		}
		if waited := time.Since(began); waited != deadline {
			t.Errorf("returned after %v, want at the caller's deadline, %v", waited, deadline)
		}
		synctest.Wait()
		if got := f.count(); got != 1 {
			t.Fatalf("got %d calls to Clerk, want the one detached call, held", got)
		}
		close(hold)
		synctest.Wait() // the detached call completes and fills the cache
		if got := v.Stats().CacheEntries; got != 1 {
			t.Errorf("got %d cache entries after the detached call, want 1", got)
		}
		if _, err := v.Verify(context.Background(), tok, ""); err != nil {
			t.Errorf("Verify after the detached call: %v", err)
		}
		if got := f.count(); got != 1 {
			t.Errorf("got %d calls to Clerk, want 1", got)
		}
	})
}

// TestCloseCancelsFlight: Close ends a call in flight; its waiters fail closed.
func TestCloseCancelsFlight(t *testing.T) {
	e := newEnv(t)
	v := e.verifier(verifier.WithLimits(verifier.Limits{Timeout: time.Minute}))
	tok := e.token(clerkapi.CreateParams{})
	hang := clerktest.Hang()
	e.srv.InjectOn(clerktest.EndpointVerify, hang)
	done := make(chan error, 1)
	go func() {
		_, err := v.Verify(context.Background(), tok, "")
		done <- err
	}()
	<-hang.Arrived(1) // the call is at the emulator, hanging
	v.Close()
	select {
	case err := <-done:
		if !errors.Is(err, verifier.ErrUnavailable) || !errors.Is(err, verifier.ErrClosed) {
			t.Errorf("waiter got %v, want ErrUnavailable (ErrClosed)", err)
		}
	case <-time.After(10 * time.Second): // a bound far below the call's timeout, not a race
		t.Fatal("waiter still blocked 10s after Close")
	}
}

// TestConcurrentMixed runs hits, misses, invalidations and garbage together
// under the race detector.
func TestConcurrentMixed(t *testing.T) {
	e := newEnv(t)
	v := e.verifier(verifier.WithCacheSize(8), verifier.WithLimits(verifier.Limits{CallRate: -1})) // misses on a frozen clock
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
					_, _ = v.Verify(context.Background(), unknownToken(g*1000+i), "")
				case 2:
					_, _ = v.Verify(context.Background(), "garbage", "")
				default:
					if _, err := v.Verify(context.Background(), tok, ""); err != nil {
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
