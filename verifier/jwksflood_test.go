package verifier_test

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/verifier"
)

// jwksAnswer is what flakyJWKS answers on GET /jwks instead of the keys.
type jwksAnswer struct {
	status     int
	retryAfter string
	body       string
}

// flakyJWKS is a fake Backend API whose GET /v1/jwks serves keys or a failure
// the test sets; it counts the JWKS requests and any other.
type flakyJWKS struct {
	*httptest.Server
	keys        []byte
	fail        atomic.Pointer[jwksAnswer] // nil: serve keys
	jwks, other atomic.Int64
}

func newFlakyJWKS(t testing.TB, key *rsa.PrivateKey) *flakyJWKS {
	t.Helper()
	f := &flakyJWKS{}
	var err error
	if f.keys, err = json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: clerkKID, Algorithm: "RS256", Use: "sig"}}}); err != nil {
		t.Fatal(err)
	}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/jwks" {
			f.other.Add(1)
			http.Error(w, `{"errors":[{"code":"unexpected"}]}`, http.StatusInternalServerError)
			return
		}
		f.jwks.Add(1)
		w.Header().Set("Content-Type", "application/json")
		if a := f.fail.Load(); a != nil {
			if a.retryAfter != "" {
				w.Header().Set("Retry-After", a.retryAfter)
			}
			w.WriteHeader(a.status)
			_, _ = w.Write([]byte(a.body))
			return
		}
		_, _ = w.Write(f.keys)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *flakyJWKS) verifier(t testing.TB, clk *clerktest.Clock, opts ...verifier.Option) *verifier.Verifier {
	t.Helper()
	return newTestVerifier(t, "sk_test_flakyjwkskey", f.URL+"/v1",
		append([]verifier.Option{verifier.WithClock(clk.Now), verifier.WithLogger(discardLogger)}, opts...)...)
}

var (
	answer503 = &jwksAnswer{status: 503, body: `{"errors":[{"message":"unavailable","code":"service_unavailable"}]}`}
	answer401 = &jwksAnswer{status: 401, body: `{"errors":[{"message":"Unauthorized","code":"unauthorized"}]}`}
)

func answer429(retryAfter string) *jwksAnswer {
	return &jwksAnswer{status: 429, retryAfter: retryAfter, body: `{"errors":[{"message":"Too many requests","code":"too_many_requests"}]}`}
}

// TestJWKSFloodRateLimited: with no usable keys (never fetched, or older than
// JWKSMaxStale) while Clerk fails, rate limits or refuses our key, 1,000 junk
// JWTs at once and 1,000 one after the other cost one GET /jwks; then at most
// one per interval (JWKSMinRefetch, or Clerk's Retry-After capped by
// WithMaxBackoff when longer) as the injected clock moves. None is invalid.
func TestJWKSFloodRateLimited(t *testing.T) {
	key := rsaKey(t, "instance")
	for _, tc := range []struct {
		name     string
		answer   *jwksAnswer
		opts     []verifier.Option
		stale    bool // first fetch the keys, then let them pass JWKSMaxStale
		want     error
		interval time.Duration
	}{
		{name: "never fetched, Clerk failing", answer: answer503, want: verifier.ErrUnavailable, interval: verifier.JWKSMinRefetch},
		{name: "never fetched, key refused", answer: answer401, want: verifier.ErrMisconfigured, interval: verifier.JWKSMinRefetch},
		{name: "never fetched, 429 Retry-After 45", answer: answer429("45"), want: verifier.ErrUnavailable, interval: 45 * time.Second},
		{name: "never fetched, 429 Retry-After 3600 (default cap)", answer: answer429("3600"), want: verifier.ErrUnavailable, interval: verifier.DefaultMaxBackoff},
		{name: "never fetched, 429 Retry-After 3600, 10s cap", answer: answer429("3600"), opts: []verifier.Option{verifier.WithLimits(verifier.Limits{MaxBackoff: 10 * time.Second})},
			want: verifier.ErrUnavailable, interval: verifier.JWKSMinRefetch},
		{name: "never fetched, 429 Retry-After 5, back-off disabled", answer: answer429("5"), opts: []verifier.Option{verifier.WithLimits(verifier.Limits{MaxBackoff: -1})},
			want: verifier.ErrUnavailable, interval: verifier.JWKSMinRefetch},
		{name: "never fetched, not Clerk", answer: &jwksAnswer{status: 404, body: "<h1>Not Found</h1>"}, want: verifier.ErrMisconfigured, interval: verifier.JWKSMinRefetch},
		{name: "older than JWKSMaxStale, Clerk failing", answer: answer503, stale: true, want: verifier.ErrUnavailable, interval: verifier.JWKSMinRefetch},
		{name: "older than JWKSMaxStale, 429 Retry-After 50", answer: answer429("50"), stale: true, want: verifier.ErrUnavailable, interval: 50 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := newFlakyJWKS(t, key)
			clk := clerktest.NewClock(t0)
			v := up.verifier(t, clk, tc.opts...)
			fetches := int64(0)
			if tc.stale {
				good, _ := clerkShape{scopes: 1, jti: hexJTI}.build(t, key, t0)
				if _, err := v.Verify(context.Background(), good, ""); err != nil {
					t.Fatalf("Verify with keys served: %v", err)
				}
				fetches = 1
				clk.Advance(verifier.JWKSMaxStale)
			}
			up.fail.Store(tc.answer)
			n := 0
			check := func(err error) {
				if !errors.Is(err, tc.want) || errors.Is(err, verifier.ErrInvalidToken) {
					t.Errorf("got %v, want %v (never invalid)", err, tc.want)
				}
			}
			concurrent := func(count int) {
				var wg sync.WaitGroup
				for range count {
					n++
					tok := junkJWT(n)
					wg.Go(func() {
						_, err := v.Verify(context.Background(), tok, "")
						check(err)
					})
				}
				wg.Wait()
			}
			sequential := func(count int) {
				for range count {
					n++
					_, err := v.Verify(context.Background(), junkJWT(n), "")
					check(err)
				}
			}
			expect := func(step string) {
				t.Helper()
				if got := up.jwks.Load(); got != fetches {
					t.Fatalf("%s: got %d GET /jwks, want %d", step, got, fetches)
				}
			}
			concurrent(1000)
			sequential(1000)
			fetches++
			expect("1,000 concurrent then 1,000 sequential junk JWTs")
			for i := range 3 {
				clk.Advance(tc.interval - time.Second)
				sequential(100)
				concurrent(100)
				expect(fmt.Sprintf("interval %d, 1s before its end", i))
				clk.Advance(time.Second)
				concurrent(100)
				sequential(100)
				fetches++
				expect(fmt.Sprintf("interval %d, at its end", i))
			}
			if got := up.other.Load(); got != 0 {
				t.Errorf("got %d requests other than GET /jwks, want 0", got)
			}
			wantEntries := 0
			if tc.stale {
				wantEntries = 1 // the token verified before
			}
			if st := v.Stats(); st.CacheEntries != wantEntries || st.Invalid != 0 {
				t.Errorf("got %d cache entries and %d invalid, want %d and 0", st.CacheEntries, st.Invalid, wantEntries)
			}
		})
	}
}

// TestJWKSRetryAfter: a 429 on /jwks is honoured as one on verify: the first
// answer carries Clerk's Retry-After, later JWTs are refused without a fetch
// (ErrBackoff) with the time left, and once it has passed the next JWT
// fetches the keys and verifies.
func TestJWKSRetryAfter(t *testing.T) {
	key := rsaKey(t, "instance")
	up := newFlakyJWKS(t, key)
	clk := clerktest.NewClock(t0)
	v := up.verifier(t, clk)
	up.fail.Store(answer429("45"))
	good, _ := clerkShape{scopes: 1, jti: base62JTI}.build(t, key, t0)
	_, err := v.Verify(context.Background(), good, "")
	if !errors.Is(err, verifier.ErrUnavailable) || errors.Is(err, verifier.ErrBackoff) || verifier.RetryAfter(err) != 45*time.Second {
		t.Fatalf("first answer: got %v (Retry-After %v), want Clerk's 429 with 45s", err, verifier.RetryAfter(err))
	}
	up.fail.Store(nil) // Clerk would answer now: only the Retry-After holds us back
	for s := 0; s < 45; s += 5 {
		clk.Set(t0.Add(time.Duration(s) * time.Second))
		_, err := v.Verify(context.Background(), good, "")
		if !errors.Is(err, verifier.ErrBackoff) || verifier.RetryAfter(err) != time.Duration(45-s)*time.Second {
			t.Fatalf("at +%ds: got %v (Retry-After %v), want ErrBackoff with %ds", s, err, verifier.RetryAfter(err), 45-s)
		}
	}
	if got := up.jwks.Load(); got != 1 {
		t.Fatalf("got %d GET /jwks within Retry-After, want 1", got)
	}
	clk.Set(t0.Add(45 * time.Second))
	if _, err := v.Verify(context.Background(), good, ""); err != nil {
		t.Fatalf("after Retry-After: got %v, want the token", err)
	}
	if got := up.jwks.Load(); got != 2 {
		t.Errorf("got %d GET /jwks, want 2", got)
	}
}

// TestJWKSKidMissingAfterFailedRefresh: when the refresh failed and the kept
// keys lack the JWT's kid, the token may be signed by a key added since:
// ErrUnavailable, not invalid, and not cached.
func TestJWKSKidMissingAfterFailedRefresh(t *testing.T) {
	key := rsaKey(t, "instance")
	up := newFlakyJWKS(t, key)
	clk := clerktest.NewClock(t0)
	v := up.verifier(t, clk)
	good, _ := clerkShape{scopes: 1, jti: hexJTI}.build(t, key, t0)
	if _, err := v.Verify(context.Background(), good, ""); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	up.fail.Store(answer503)
	clk.Advance(verifier.JWKSTTL)
	other := rsaKey(t, "other")
	rotated := signJWT(t, other, jose.RS256, "ins_rotated", map[jose.HeaderKey]any{"cat": verifier.JWTCategory},
		map[string]any{"sub": "mch_2xhFjEI5X2qWRvtV13BzSj8H6Dk", "exp": clk.Now().Add(time.Hour).Unix()})
	for i := range 2 {
		if _, err := v.Verify(context.Background(), rotated, ""); !errors.Is(err, verifier.ErrUnavailable) {
			t.Fatalf("call %d: got %v, want ErrUnavailable", i, err)
		}
	}
	if _, err := v.Verify(context.Background(), good, ""); err != nil {
		t.Errorf("known kid on stale keys: got %v, want the token", err)
	}
	if got := up.jwks.Load(); got != 2 {
		t.Errorf("got %d GET /jwks, want 2", got)
	}
	if st := v.Stats(); st.NegativeHits != 0 {
		t.Errorf("got %d negative hits, want 0", st.NegativeHits)
	}
}
