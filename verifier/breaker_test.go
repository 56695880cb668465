package verifier_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/m2mauth/m2mauth/verifier"
)

// TestBreaker: consecutive 5xx open the breaker; misses then fail fast with
// ErrBreakerOpen and the cool-down left as Retry-After, without a call, while
// cached tokens are served; after the cool-down one probe at a time goes to
// Clerk, and its success closes the breaker.
func TestBreaker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		f := &fakeClerk{mode: "ok"}
		v := newFakeVerifier(t, f, verifier.WithLimits(verifier.Limits{BreakerFailures: 3, BreakerCooldown: 10 * time.Second}))
		defer v.Close()
		if _, err := v.Verify(ctx, unknownToken(1), ""); err != nil {
			t.Fatalf("warming the cache: %v", err)
		}
		f.set("down", nil)
		for i := range 3 {
			if _, err := v.Verify(ctx, unknownToken(10+i), ""); !errors.Is(err, verifier.ErrUnavailable) || errors.Is(err, verifier.ErrBreakerOpen) {
				t.Fatalf("failure %d: got %v, want Clerk's 503 as ErrUnavailable", i, err)
			}
		}
		if got := v.Stats().BreakerState; got != "open" {
			t.Errorf("got breaker %q after 3 failures, want open", got)
		}
		calls := f.count()
		_, err := v.Verify(ctx, unknownToken(20), "")
		if !errors.Is(err, verifier.ErrBreakerOpen) || !errors.Is(err, verifier.ErrUnavailable) {
			t.Fatalf("miss while open: got %v, want ErrBreakerOpen", err)
		}
		if got := verifier.RetryAfter(err); got != 10*time.Second {
			t.Errorf("got Retry-After %v, want 10s", got)
		}
		if got := f.count(); got != calls {
			t.Errorf("a miss while open made %d calls, want 0", got-calls)
		}
		if _, err := v.Verify(ctx, unknownToken(1), ""); err != nil {
			t.Errorf("cache hit while open: %v", err)
		}
		time.Sleep(4 * time.Second) // fake time: the bubble's clock
		if _, err := v.Verify(ctx, unknownToken(21), ""); verifier.RetryAfter(err) != 6*time.Second {
			t.Errorf("4s later: got %v with Retry-After %v, want 6s left", err, verifier.RetryAfter(err))
		}

		time.Sleep(6*time.Second + time.Nanosecond) // past the cool-down: half-open, one probe at a time
		hold := make(chan struct{})
		f.set("unknown", hold)
		probe := make(chan error, 1)
		go func() { _, err := v.Verify(ctx, unknownToken(30), ""); probe <- err }()
		synctest.Wait() // the probe is in flight, held
		if _, err := v.Verify(ctx, unknownToken(31), ""); !errors.Is(err, verifier.ErrBreakerOpen) {
			t.Errorf("second miss during the probe: got %v, want ErrBreakerOpen", err)
		}
		close(hold)
		if err := <-probe; !errors.Is(err, verifier.ErrInvalidToken) {
			t.Fatalf("probe: got %v, want Clerk's verdict (invalid)", err)
		}
		if got := v.Stats().BreakerState; got != "closed" {
			t.Errorf("got breaker %q after a good probe, want closed", got)
		}
		if _, err := v.Verify(ctx, unknownToken(32), ""); !errors.Is(err, verifier.ErrInvalidToken) {
			t.Errorf("after closing: got %v, want Clerk's verdict", err)
		}
		if st := v.Stats(); st.BreakerRefusals != 3 {
			t.Errorf("got %d breaker refusals, want 3", st.BreakerRefusals)
		}
	})
}

// TestBreakerIgnoresVerdicts: refusals of tokens, however many, are Clerk
// answering: they never open the breaker.
func TestBreakerIgnoresVerdicts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeClerk{mode: "unknown"}
		v := newFakeVerifier(t, f, verifier.WithLimits(verifier.Limits{BreakerFailures: 2, BreakerCooldown: time.Minute, CallRate: -1}))
		defer v.Close()
		for i := range 20 {
			if _, err := v.Verify(context.Background(), unknownToken(i+1), ""); !errors.Is(err, verifier.ErrInvalidToken) {
				t.Fatalf("token %d: got %v, want ErrInvalidToken", i, err)
			}
		}
		if got := v.Stats().BreakerState; got != "closed" {
			t.Errorf("got breaker %q, want closed", got)
		}
	})
}
