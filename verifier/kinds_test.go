package verifier_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/verifier"
)

// kindClerk is a Backend API that answers every verify endpoint with the
// status and body set for it, and records what each request sent.
type kindClerk struct {
	*httptest.Server
	mu      sync.Mutex
	answers map[string]cannedAnswer // by path
	got     []seenRequest
	calls   atomic.Int64
}

type cannedAnswer struct {
	status int
	body   string
}

type seenRequest struct {
	path, version string
	body          map[string]any
}

func newKindClerk(t *testing.T) *kindClerk {
	t.Helper()
	k := &kindClerk{answers: map[string]cannedAnswer{}}
	k.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k.calls.Add(1)
		b, _ := io.ReadAll(r.Body)
		var body map[string]any
		_ = json.Unmarshal(b, &body)
		k.mu.Lock()
		k.got = append(k.got, seenRequest{r.URL.Path, r.Header.Get("Clerk-API-Version"), body})
		a, ok := k.answers[r.URL.Path]
		k.mu.Unlock()
		if !ok {
			a = cannedAnswer{404, `{"errors":[{"message":"not found","code":"resource_not_found"}]}`}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(a.status)
		_, _ = io.WriteString(w, a.body)
	}))
	t.Cleanup(k.Close)
	return k
}

func (k *kindClerk) answer(path string, status int, body string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.answers[path] = cannedAnswer{status, body}
}

func (k *kindClerk) last() seenRequest {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.got[len(k.got)-1]
}

const (
	apiKeySecret = "ak_" + "Zx9YQm2kVb7Lw4Tn8Rp3Hs6Jd1Fg5Ca0"
	oauthOpaque  = "oat_" + "Zx9YQm2kVb7Lw4Tn8Rp3Hs6Jd1Fg5Ca0"

	apiKeyOK = `{"object":"api_key","id":"ak_3beecc9c60adb5f9b850e91a8ee1e992","type":"api_key","subject":"org_2xhFjEI5X2qWRvtV13BzSj8H6Dk",
		"name":"billing export","description":null,"claims":{"tier":"gold"},"scopes":["orders:read"],"revoked":false,"revocation_reason":null,
		"expired":false,"expiration":1924992000000,"created_by":null,"last_used_at":null,"created_at":1716883200000,"updated_at":1716883200000}`
	oauthOK = `{"object":"clerk_idp_oauth_access_token","id":"oat_0ef5a7a33d87ed87ee7954c845d80450","client_id":"client_app",
		"subject":"user_2xhFjEI5X2qWRvtV13BzSj8H6Dk","scopes":["mcp","profile"],"revoked":false,"revocation_reason":null,"expired":false,
		"expiration":1924992000000,"created_at":1716883200000,"updated_at":1716883200000}`
	clerk404 = `{"errors":[{"message":"not found","long_message":"not found","code":"resource_not_found"}]}`
	clerk401 = `{"errors":[{"message":"Unauthorized","code":"unauthorized"}]}`
	clerk503 = `{"errors":[{"message":"unavailable","code":"service_unavailable"}]}`
)

// TestKindsAtClerk: API keys and opaque OAuth tokens go to their own verify
// endpoint, with their own body field and Clerk's API version, and Clerk's
// answers map to the taxonomy every kind shares: a live object is a Token of
// the kind; a 404, revoked, expired or not active is invalid (remembered);
// our key refused is misconfigured; 429/5xx is unavailable (not remembered).
func TestKindsAtClerk(t *testing.T) {
	const keyPath, oauthPath = "/v1/api_keys/verify", "/v1/oauth_applications/access_tokens/verify"
	replace := func(body, old, new string) string { return strings.Replace(body, old, new, 1) }
	for _, tc := range []struct {
		name      string
		token     string
		path      string
		field     string
		status    int
		body      string
		want      error // nil: valid
		reason    string
		remembers bool
	}{
		{"API key", apiKeySecret, keyPath, "secret", 200, apiKeyOK, nil, "", true},
		{"API key unknown", apiKeySecret, keyPath, "secret", 404, clerk404, verifier.ErrInvalidToken, "API key unknown", true},
		{"API key revoked", apiKeySecret, keyPath, "secret", 200, replace(apiKeyOK, `"revoked":false`, `"revoked":true`), verifier.ErrInvalidToken, "revoked", true},
		{"API key expired", apiKeySecret, keyPath, "secret", 200, replace(apiKeyOK, `"expired":false`, `"expired":true`), verifier.ErrInvalidToken, "expired", true},
		{"API key past its expiration", apiKeySecret, keyPath, "secret", 200, replace(apiKeyOK, "1924992000000", "1716883200000"), verifier.ErrInvalidToken, "expired", true},
		{"API key, another object", apiKeySecret, keyPath, "secret", 200, oauthOK, verifier.ErrUnavailable, "", false},
		{"API key, our key refused", apiKeySecret, keyPath, "secret", 401, clerk401, verifier.ErrMisconfigured, "", false},
		{"API key, Clerk down", apiKeySecret, keyPath, "secret", 503, clerk503, verifier.ErrUnavailable, "", false},
		{"OAuth", oauthOpaque, oauthPath, "access_token", 200, oauthOK, nil, "", true},
		{"OAuth unknown", oauthOpaque, oauthPath, "access_token", 404, clerk404, verifier.ErrInvalidToken, "OAuth access token unknown", true},
		{"OAuth not active", oauthOpaque, oauthPath, "access_token", 200, `{"active":false}`, verifier.ErrInvalidToken, "expired", true},
		{"OAuth revoked", oauthOpaque, oauthPath, "access_token", 200, replace(oauthOK, `"revoked":false`, `"revoked":true`), verifier.ErrInvalidToken, "revoked", true},
		{"OAuth expired", oauthOpaque, oauthPath, "access_token", 200, replace(oauthOK, `"expired":false`, `"expired":true`), verifier.ErrInvalidToken, "expired", true},
		{"OAuth, Clerk rate limits", oauthOpaque, oauthPath, "access_token", 429, `{"errors":[{"message":"slow down","code":"too_many_requests"}]}`, verifier.ErrUnavailable, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := newKindClerk(t)
			k.answer(tc.path, tc.status, tc.body)
			v := newTestVerifier(t, "sk_test_"+strings.Repeat("k", 40), k.URL+"/v1", verifier.WithClock(func() time.Time { return t0 }),
				verifier.WithLogger(discardLogger), verifier.WithLimits(verifier.Limits{MaxBackoff: -1}))
			tok, err := v.Verify(context.Background(), tc.token, "")
			if (tc.want == nil) != (err == nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			var inv *verifier.InvalidTokenError
			if tc.reason != "" && (!errors.As(err, &inv) || !strings.Contains(inv.Reason, tc.reason)) {
				t.Errorf("got %v, want a reason about %q", err, tc.reason)
			}
			seen := k.last()
			if seen.path != tc.path || seen.version != clerkapi.APIVersion || len(seen.body) != 1 || seen.body[tc.field] != tc.token {
				t.Errorf("Clerk saw %+v, want %s with Clerk-API-Version %s and the body {%q: token}", seen, tc.path, clerkapi.APIVersion, tc.field)
			}
			_, _ = v.Verify(context.Background(), tc.token, "")
			if got, want := k.calls.Load(), map[bool]int64{true: 1, false: 2}[tc.remembers]; got != want {
				t.Errorf("two Verify: got %d calls, want %d", got, want)
			}
			if tc.want != nil {
				return
			}
			if tc.token == apiKeySecret {
				if tok.Kind != verifier.KindAPIKey || tok.ID != "ak_3beecc9c60adb5f9b850e91a8ee1e992" || tok.Name != "billing export" ||
					!tok.IsOrganization() || !tok.HasScope("orders:read") || string(tok.Claims) != `{"tier":"gold"}` || tok.Format != clerkapi.FormatOpaque {
					t.Errorf("got %+v, want the API key", tok)
				}
			} else if tok.Kind != verifier.KindOAuth || tok.ID != "oat_0ef5a7a33d87ed87ee7954c845d80450" || tok.ClientID != "client_app" ||
				!tok.IsUser() || !tok.HasScopes("mcp", "profile") || tok.Claims != nil {
				t.Errorf("got %+v, want the OAuth token", tok)
			}
			if !tok.ExpiresAt.Equal(time.UnixMilli(1924992000000)) || !tok.CreatedAt.Equal(time.UnixMilli(1716883200000)) {
				t.Errorf("got expiry %v created %v, want the answer's milliseconds", tok.ExpiresAt, tok.CreatedAt)
			}
		})
	}
}

// TestOneCallPerNewAPIKey: 1,000 concurrent requests carrying one new API key
// cost Clerk one call. The call is held until every request has started:
// those that find it in flight share it, any later one is a cache hit.
func TestOneCallPerNewAPIKey(t *testing.T) {
	const n = 1000
	k := newKindClerk(t)
	k.answer("/v1/api_keys/verify", 200, apiKeyOK)
	var started sync.WaitGroup
	started.Add(n)
	inner := k.Config.Handler
	k.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started.Wait()
		inner.ServeHTTP(w, r)
	})
	v := newTestVerifier(t, "sk_test_"+strings.Repeat("k", 40), k.URL+"/v1", verifier.WithClock(func() time.Time { return t0 }))
	errs := make(chan error, n)
	for range n {
		go func() {
			started.Done()
			_, err := v.Verify(context.Background(), apiKeySecret, "198.51.100.7")
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if got := k.calls.Load(); got != 1 {
		t.Errorf("got %d calls to Clerk for %d concurrent requests, want 1", got, n)
	}
	t.Logf("%d requests: %d call to Clerk, %d shared the flight", n, k.calls.Load(), v.Stats().SharedWaits)
}
