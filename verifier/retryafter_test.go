package verifier_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/verifier"
)

// TestRetryAfterCapped: Clerk's Retry-After: 3600 reaches the caller capped
// at WithMaxBackoff (DefaultMaxBackoff when the gate is disabled) on every
// answer: the first 429 or 503 of verify and of /jwks, and each refusal that
// follows without a call.
func TestRetryAfterCapped(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []verifier.Option
		cap  time.Duration
	}{
		{"default cap", nil, verifier.DefaultMaxBackoff},
		{"10s cap", []verifier.Option{verifier.WithLimits(verifier.Limits{MaxBackoff: 10 * time.Second})}, 10 * time.Second},
		{"1.5s cap", []verifier.Option{verifier.WithLimits(verifier.Limits{MaxBackoff: 1500 * time.Millisecond})}, 1500 * time.Millisecond},
		{"gate disabled", []verifier.Option{verifier.WithLimits(verifier.Limits{MaxBackoff: -1})}, verifier.DefaultMaxBackoff},
	} {
		for _, status := range []int{http.StatusTooManyRequests, http.StatusServiceUnavailable} {
			t.Run(tc.name+"/"+http.StatusText(status), func(t *testing.T) {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "application/json")
					w.Header().Set("Retry-After", "3600")
					w.WriteHeader(status)
					_, _ = w.Write([]byte(`{"errors":[{"message":"wait","code":"too_many_requests"}]}`))
				}))
				defer srv.Close()
				clk := clerktest.NewClock(t0)
				v, err := verifier.New("sk_test_retryaftercap", append([]verifier.Option{verifier.WithBaseURL(srv.URL + "/v1"),
					verifier.WithClock(clk.Now)}, tc.opts...)...)
				if err != nil {
					t.Fatal(err)
				}
				defer v.Close()
				for i, tok := range []string{unknownToken(1), unknownToken(2), junkJWT(1), junkJWT(2), unknownToken(3), junkJWT(3)} {
					if i == 4 {
						clk.Advance(time.Second) // later refusals: the time left, still capped
					}
					_, err := v.Verify(context.Background(), tok, "")
					if !errors.Is(err, verifier.ErrUnavailable) {
						t.Fatalf("token %d: got %v, want ErrUnavailable", i, err)
					}
					ra := verifier.RetryAfter(err)
					if ra <= 0 || ra > tc.cap {
						t.Errorf("token %d: got Retry-After %v, want within (0, %v]", i, ra, tc.cap)
					}
					if i == 0 && ra != tc.cap {
						t.Errorf("first answer: got Retry-After %v, want Clerk's 3600s capped to %v", ra, tc.cap)
					}
				}
			})
		}
	}
}
