package conformance_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
)

// answer is what a caller sees; it must be identical across adapters.
type answer struct {
	Status       int
	WWW          string
	RetryAfter   string
	CacheControl string
	Error        string // the JSON body's "error"
	Subject      string // the JSON body's "subject" (on success)
}

// TestConformance runs every scenario against every adapter (net/http, Echo
// v4, Echo v5, Gin) through real HTTP servers, backed by the real verifier
// and the clerktest emulator.
func TestConformance(t *testing.T) {
	f := newFixture(t)
	servers := f.servers(t)
	bearer := func(tok string) []string { return []string{"Bearer " + tok} }
	const realm = `Bearer realm="api"`
	for _, sc := range []struct {
		name string
		auth string // which authenticator; "" is "main"
		// prepare runs before each adapter's request and returns the
		// Authorization header values to send (nil: none).
		prepare    func(t *testing.T) []string
		wantStatus int
		wantWWW    string // exact; with wantWWWPrefix a prefix
		wantPrefix bool
		wantRetry  string
		wantError  string
	}{
		{name: "valid", prepare: func(t *testing.T) []string { return bearer(f.mint(t, f.caller, 0).Token) },
			wantStatus: 200},
		{name: "valid jwt", prepare: func(t *testing.T) []string {
			tok, err := f.clerk.CreateToken(f.caller.ID, clerkapi.CreateParams{TokenFormat: clerkapi.FormatJWT})
			if err != nil {
				t.Fatalf("CreateToken: %v", err)
			}
			return bearer(tok.Token)
		}, wantStatus: 200},
		{name: "missing", prepare: func(*testing.T) []string { return nil },
			wantStatus: 401, wantWWW: realm, wantError: "missing_token"},
		{name: "malformed", prepare: func(*testing.T) []string { return []string{"Bearer two words"} },
			wantStatus: 401, wantWWW: realm, wantError: "missing_token"},
		{name: "basic scheme", prepare: func(*testing.T) []string { return []string{"Basic dXNlcjpwYXNz"} },
			wantStatus: 401, wantWWW: realm, wantError: "missing_token"},
		{name: "duplicated header", prepare: func(t *testing.T) []string {
			tok := f.mint(t, f.caller, 0).Token
			return []string{"Bearer " + tok, "Bearer " + tok}
		}, wantStatus: 401, wantWWW: realm, wantError: "missing_token"},
		{name: "invalid", prepare: func(*testing.T) []string { return bearer("mt_" + strings.Repeat("x", 32)) },
			wantStatus: 401, wantWWW: realm + `, error="invalid_token"`, wantPrefix: true, wantError: "invalid_token"},
		{name: "expired", prepare: func(t *testing.T) []string {
			tok := f.mint(t, f.caller, time.Minute)
			f.clock.Advance(2 * time.Minute)
			return bearer(tok.Token)
		}, wantStatus: 401, wantWWW: realm + `, error="invalid_token"`, wantPrefix: true, wantError: "invalid_token"},
		{name: "revoked", prepare: func(t *testing.T) []string {
			tok := f.mint(t, f.caller, 0)
			if err := f.clerk.RevokeToken(tok.ID, "compromised"); err != nil {
				t.Fatalf("RevokeToken: %v", err)
			}
			return bearer(tok.Token)
		}, wantStatus: 401, wantWWW: realm + `, error="invalid_token"`, wantPrefix: true, wantError: "invalid_token"},
		{name: "out of scope", prepare: func(t *testing.T) []string { return bearer(f.mint(t, f.stranger, 0).Token) },
			wantStatus: 403, wantWWW: realm + `, error="insufficient_scope", error_description="token not scoped to this service"`, wantError: "insufficient_scope"},
		{name: "subject refused", prepare: func(t *testing.T) []string { return bearer(f.mint(t, f.intruder, 0).Token) },
			wantStatus: 403, wantWWW: realm + `, error="insufficient_scope", error_description="subject not allowed"`, wantError: "insufficient_scope"},
		{name: "clerk down", prepare: func(t *testing.T) []string {
			tok := f.mint(t, f.caller, 0).Token
			f.clerk.InjectOn(clerktest.EndpointVerify, clerktest.FailNext(1<<20, http.StatusServiceUnavailable))
			t.Cleanup(f.clerk.ClearFaults)
			return bearer(tok)
		}, wantStatus: 503, wantRetry: "2", wantError: "temporarily_unavailable"},
		{name: "clerk 429", prepare: func(t *testing.T) []string {
			tok := f.mint(t, f.caller, 0).Token
			f.clerk.InjectOn(clerktest.EndpointVerify, clerktest.RateLimited(7*time.Second))
			t.Cleanup(f.clerk.ClearFaults)
			return bearer(tok)
		}, wantStatus: 503, wantRetry: "7", wantError: "temporarily_unavailable"},
		{name: "misconfigured key", auth: "badkey", prepare: func(t *testing.T) []string { return bearer(f.mint(t, f.caller, 0).Token) },
			wantStatus: 500, wantError: "server_error"},
	} {
		t.Run(sc.name, func(t *testing.T) {
			auth := sc.auth
			if auth == "" {
				auth = "main"
			}
			got := map[string]answer{}
			for _, ad := range adapters {
				t.Run(ad.name, func(t *testing.T) {
					headers := sc.prepare(t)
					req, err := http.NewRequest(http.MethodGet, servers[ad.name][auth].URL+"/api/whoami", nil)
					if err != nil {
						t.Fatal(err)
					}
					for _, h := range headers {
						req.Header.Add("Authorization", h)
					}
					res, err := servers[ad.name][auth].Client().Do(req)
					if err != nil {
						t.Fatalf("GET: %v", err)
					}
					defer res.Body.Close()
					var body struct{ Error, Subject string }
					if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
						t.Fatalf("decoding body: %v", err)
					}
					a := answer{Status: res.StatusCode, WWW: res.Header.Get("WWW-Authenticate"),
						RetryAfter: res.Header.Get("Retry-After"), CacheControl: res.Header.Get("Cache-Control"),
						Error: body.Error, Subject: body.Subject}
					got[ad.name] = a

					if a.Status != sc.wantStatus {
						t.Errorf("got status %d, want %d", a.Status, sc.wantStatus)
					}
					if (sc.wantPrefix && !strings.HasPrefix(a.WWW, sc.wantWWW)) || (!sc.wantPrefix && a.WWW != sc.wantWWW) {
						t.Errorf("got WWW-Authenticate %q, want %q (prefix: %v)", a.WWW, sc.wantWWW, sc.wantPrefix)
					}
					if a.RetryAfter != sc.wantRetry {
						t.Errorf("got Retry-After %q, want %q", a.RetryAfter, sc.wantRetry)
					}
					if a.Error != sc.wantError {
						t.Errorf("got body error %q, want %q", a.Error, sc.wantError)
					}
					if sc.wantStatus == 200 {
						if a.Subject != f.caller.ID {
							t.Errorf("got subject %q, want %q", a.Subject, f.caller.ID)
						}
					} else if a.CacheControl != "no-store" {
						t.Errorf("got Cache-Control %q, want no-store", a.CacheControl)
					}
					for _, h := range headers {
						if tok := strings.TrimPrefix(h, "Bearer "); len(tok) > 8 && strings.Contains(a.WWW+a.Error, tok) {
							t.Errorf("the response echoes the token")
						}
					}
				})
			}
			ref := got[adapters[0].name]
			t.Logf("all adapters: %+v", ref)
			for _, ad := range adapters[1:] {
				if g, ok := got[ad.name]; ok && g != ref {
					t.Errorf("%s answered %+v, %s answered %+v: want identical", ad.name, g, adapters[0].name, ref)
				}
			}
		})
	}
}
