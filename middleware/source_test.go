package middleware_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/m2mauth/m2mauth/middleware"
	"github.com/m2mauth/m2mauth/verifier"
)

// TestRemoteIP: RemoteIP names r.RemoteAddr by internal/source's rules,
// whose own test holds the whole table.
func TestRemoteIP(t *testing.T) {
	for _, tc := range []struct {
		name, remote, want string
	}{
		{"IPv4", "192.0.2.7:51234", "192.0.2.7"},
		{"IPv6 counts by its /64", "[2001:db8:1:2:aaaa:bbbb:cccc:dddd]:443", "2001:db8:1:2::/64"},
		{"not ip:port", "@unix", "@unix"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = tc.remote
			if got := middleware.RemoteIP(r); got != tc.want {
				t.Errorf("RemoteIP(%q) = %q, want %q", tc.remote, got, tc.want)
			}
		})
	}
}

func TestRemoteIPIgnoresForwardedHeaders(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "192.0.2.7:1"
	r.Header.Set("X-Forwarded-For", "198.51.100.1")
	r.Header.Set("X-Real-Ip", "198.51.100.2")
	r.Header.Set("Forwarded", "for=198.51.100.3")
	if got := middleware.RemoteIP(r); got != "192.0.2.7" {
		t.Errorf("got %q, want the peer 192.0.2.7", got)
	}
}

func TestRemoteIPDoesNotAllocate(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "192.0.2.7:51234"
	if n := testing.AllocsPerRun(100, func() { _ = middleware.RemoteIP(r) }); n != 0 {
		t.Errorf("got %v allocations, want 0", n)
	}
}

// TestSourceReachesVerifier: the source goes to the Verifier as Verify's
// argument: RemoteIP's by default, WithSourceFunc's in its place, never a
// header the client sets.
func TestSourceReachesVerifier(t *testing.T) {
	r := requestWith("Bearer " + goodToken)
	r.RemoteAddr = "192.0.2.7:1"
	r.Header.Set("X-Client", "proxy-said")
	r.Header.Set("X-Forwarded-For", "198.51.100.1")

	var seen string
	v := middleware.VerifierFunc(func(_ context.Context, _, source string) (*verifier.Token, error) {
		seen = source
		return validToken(), nil
	})
	for _, tc := range []struct {
		name string
		opts []middleware.Option
		want string
	}{
		{"default: the peer", nil, "192.0.2.7"},
		{"WithSourceFunc", []middleware.Option{middleware.WithSourceFunc(func(r *http.Request) string { return r.Header.Get("X-Client") })}, "proxy-said"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := middleware.New(v, append(tc.opts, middleware.WithAnyAudience())...)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := a.Authenticate(r); err != nil {
				t.Fatal(err)
			}
			if seen != tc.want {
				t.Errorf("Verifier got source %q, want %q", seen, tc.want)
			}
		})
	}
	if _, err := middleware.New(v, middleware.WithSourceFunc(nil)); err == nil {
		t.Error("WithSourceFunc(nil) accepted")
	}
}

// TestRateLimitedResponse: a source over its budget gets 429 with
// Retry-After and the JSON body, no challenge; never 401 or 503.
func TestRateLimitedResponse(t *testing.T) {
	a, err := middleware.New(&fixedVerifier{err: &verifier.RateLimitedError{RetryAfter: 3 * time.Second}},
		middleware.WithAnyAudience())
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.Authenticate(requestWith("Bearer " + goodToken))
	if !errors.Is(err, verifier.ErrRateLimited) {
		t.Fatalf("got %v, want ErrRateLimited", err)
	}
	w := httptest.NewRecorder()
	a.WriteError(w, requestWith(), err)
	if w.Code != http.StatusTooManyRequests {
		t.Errorf("got status %d, want 429", w.Code)
	}
	if got := w.Header().Get("Retry-After"); got != "3" {
		t.Errorf("got Retry-After %q, want 3", got)
	}
	if got := w.Header().Get("WWW-Authenticate"); got != "" {
		t.Errorf("got WWW-Authenticate %q, want none", got)
	}
	if body := w.Body.String(); !strings.Contains(body, `"error":"too_many_requests"`) {
		t.Errorf("got body %s, want error too_many_requests", body)
	}
}

// TestRateLimitedEvenIfClientGone: a budget refusal is a verdict on the
// request, kept as it is even when the request's context has ended.
func TestRateLimitedEvenIfClientGone(t *testing.T) {
	a, err := middleware.New(&fixedVerifier{err: &verifier.RateLimitedError{RetryAfter: time.Second}},
		middleware.WithAnyAudience())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := a.Authenticate(requestWith("Bearer " + goodToken).WithContext(ctx)); !errors.Is(err, verifier.ErrRateLimited) {
		t.Errorf("got %v, want ErrRateLimited", err)
	}
}
