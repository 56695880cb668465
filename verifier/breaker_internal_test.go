package verifier

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
)

// TestBreakerStates walks the breaker's state machine on an injected clock.
func TestBreakerStates(t *testing.T) {
	now := time.Date(2026, 5, 12, 0, 0, 0, 0, time.UTC)
	b := newBreaker(2, 10*time.Second, func() time.Time { return now })
	down := &clerkapi.APIError{StatusCode: http.StatusServiceUnavailable}
	refused := &clerkapi.APIError{StatusCode: http.StatusNotFound}
	call := func(outcome error) {
		t.Helper()
		done, err := b.allow()
		if err != nil {
			t.Fatalf("allow at %v (%s): %v", now, b.stateName(), err)
		}
		done(outcome)
	}
	want := func(state string) {
		t.Helper()
		if got := b.stateName(); got != state {
			t.Fatalf("got state %q, want %q", got, state)
		}
	}

	call(down)
	call(nil) // a success resets the count
	call(down)
	want("closed")
	call(refused) // Clerk answering is a success
	call(down)
	call(down)
	want("open")
	if err := b.refuse(); !errors.Is(err, ErrBreakerOpen) || RetryAfter(err) != 10*time.Second {
		t.Fatalf("refuse while open: got %v (Retry-After %v), want ErrBreakerOpen, 10s", err, RetryAfter(err))
	}
	now = now.Add(4 * time.Second)
	if got := RetryAfter(b.refuse()); got != 6*time.Second {
		t.Errorf("4s later: got Retry-After %v, want 6s", got)
	}

	now = now.Add(6 * time.Second) // the cool-down has passed
	want("half-open")
	if err := b.refuse(); err != nil {
		t.Fatalf("refuse when half-open: %v, want nil (a probe may go)", err)
	}
	probe, err := b.allow()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.allow(); !errors.Is(err, ErrBreakerOpen) {
		t.Fatalf("a second call while the probe is out: got %v, want ErrBreakerOpen", err)
	}
	probe(down) // the probe failed: open again
	want("open")

	now = now.Add(10 * time.Second)
	probe, _ = b.allow()
	probe(errAbandoned) // Close: says nothing; the next call may probe
	want("half-open")
	call(nil)
	want("closed")

	// An outcome of an older generation changes nothing.
	late, _ := b.allow()
	call(down)
	call(down)
	want("open")
	late(nil)
	want("open")
}

func TestNilBreaker(t *testing.T) {
	var b *breaker
	if err := b.refuse(); err != nil {
		t.Errorf("nil breaker refused: %v", err)
	}
	done, err := b.allow()
	if err != nil {
		t.Fatal(err)
	}
	done(errors.New("x"))
	if got := b.stateName(); got != "off" {
		t.Errorf("got %q, want off", got)
	}
}
