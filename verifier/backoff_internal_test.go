package verifier

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
)

func TestOpens(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		ra     time.Duration
		want   bool
	}{
		{"429 with Retry-After", 429, 7 * time.Second, true},
		{"503 with Retry-After", 503, 2 * time.Second, true},
		{"504 with Retry-After", 504, time.Second, true},
		{"429 without Retry-After", 429, 0, false},
		{"503 without Retry-After", 503, 0, false},
		{"418 with Retry-After", 418, time.Second, false},
		{"404 with Retry-After", 404, time.Second, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := opens(&clerkapi.APIError{StatusCode: tc.status, RetryAfter: tc.ra}); got != tc.want {
				t.Errorf("opens(%d, Retry-After %v) = %v, want %v", tc.status, tc.ra, got, tc.want)
			}
		})
	}
}

// TestBackoffKeepsLater: a new Retry-After never shortens the back-off; one
// ending later extends it; the cap bounds it.
func TestBackoffKeepsLater(t *testing.T) {
	t0 := time.Date(2026, 5, 12, 10, 0, 0, 0, time.UTC)
	ra := func(d time.Duration) *clerkapi.APIError {
		return &clerkapi.APIError{StatusCode: http.StatusTooManyRequests, RetryAfter: d}
	}
	b := backoff{max: time.Minute}
	if err := b.refuse(t0); err != nil {
		t.Fatalf("fresh gate: got %v, want nil", err)
	}
	for _, st := range []struct {
		name       string
		at         time.Duration // since t0
		retryAfter time.Duration
		wantOpened bool
		wantUntil  time.Duration // since t0
	}{
		{"first 429", 0, 7 * time.Second, true, 7 * time.Second},
		{"shorter one", time.Second, 3 * time.Second, false, 7 * time.Second},
		{"equal end", 2 * time.Second, 5 * time.Second, false, 7 * time.Second},
		{"longer one extends", 5 * time.Second, 7 * time.Second, false, 12 * time.Second},
		{"capped", 6 * time.Second, time.Hour, false, 66 * time.Second},
		{"after the end, a new back-off", 70 * time.Second, 2 * time.Second, true, 72 * time.Second},
	} {
		at := t0.Add(st.at)
		if got := b.open(at, ra(st.retryAfter)); got != st.wantOpened {
			t.Errorf("%s: open = %v, want %v", st.name, got, st.wantOpened)
		}
		if got := b.state.Load().until.Sub(t0); got != st.wantUntil {
			t.Errorf("%s: got deadline +%v, want +%v", st.name, got, st.wantUntil)
		}
		if err := b.refuse(t0.Add(st.wantUntil)); err != nil {
			t.Errorf("%s: refused at the deadline: %v, want nil", st.name, err)
		}
		if got := RetryAfter(b.refuse(t0.Add(st.wantUntil - 1))); got != time.Second {
			t.Errorf("%s: got Retry-After %v 1ns before the deadline, want 1s", st.name, got)
		}
	}
}

// TestBackoffConcurrentOpen: concurrent opens leave the latest deadline.
func TestBackoffConcurrentOpen(t *testing.T) {
	t0 := time.Date(2026, 5, 12, 10, 0, 0, 0, time.UTC)
	b := backoff{max: time.Hour}
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Go(func() {
			b.open(t0, &clerkapi.APIError{StatusCode: 503, RetryAfter: time.Duration(i+1) * time.Second})
			_ = b.refuse(t0)
		})
	}
	wg.Wait()
	if got := b.state.Load().until.Sub(t0); got != 100*time.Second {
		t.Errorf("got deadline +%v, want +100s", got)
	}
}

func TestBackoffDisabled(t *testing.T) {
	var b backoff // max 0
	if b.open(time.Now(), &clerkapi.APIError{StatusCode: 429, RetryAfter: time.Minute}) || b.refuse(time.Now()) != nil {
		t.Error("a gate with max 0 opened, want it disabled")
	}
}
