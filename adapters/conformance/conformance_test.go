package conformance_test

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
)

// answer is what a caller sees; it must be identical across adapters. The
// body is compared as JSON (decoded and re-encoded with sorted keys) and
// Content-Type by its media type, so a framework's trailing newline or
// charset parameter is not a difference.
type answer struct {
	Status       int
	WWW          string // WWW-Authenticate
	RetryAfter   string
	CacheControl string
	NoSniff      string // X-Content-Type-Options
	MediaType    string // Content-Type without its parameters
	Body         string // the JSON body, canonical
}

// readAnswer reads the answer of a response: its status, headers and JSON
// body.
func readAnswer(status int, h http.Header, body []byte) (answer, error) {
	a := answer{Status: status, WWW: h.Get("WWW-Authenticate"), RetryAfter: h.Get("Retry-After"),
		CacheControl: h.Get("Cache-Control"), NoSniff: h.Get("X-Content-Type-Options")}
	if ct := h.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil {
			return a, fmt.Errorf("Content-Type %q: %v", ct, err)
		}
		a.MediaType = mt
	}
	var v map[string]any
	if err := json.Unmarshal(body, &v); err != nil {
		return a, fmt.Errorf("body %q: %v", body, err)
	}
	canon, err := json.Marshal(v)
	if err != nil {
		return a, err
	}
	a.Body = string(canon)
	return a, nil
}

// field returns the string field name of the answer's JSON body.
func (a answer) field(name string) string {
	var v map[string]any
	_ = json.Unmarshal([]byte(a.Body), &v)
	s, _ := v[name].(string)
	return s
}

// row prints the answer as a row of the table, with the raw Content-Type
// ct.
func (a answer) row(ct string) string {
	return fmt.Sprintf("%d | WWW-Authenticate: %s | Retry-After: %s | Cache-Control: %s | X-Content-Type-Options: %s | Content-Type: %s | %s",
		a.Status, a.WWW, a.RetryAfter, a.CacheControl, a.NoSniff, ct, a.Body)
}

// checkRefusal asserts the headers every refusal carries, whatever its
// status.
func (a answer) checkRefusal(t *testing.T) {
	t.Helper()
	if a.CacheControl != "no-store" {
		t.Errorf("got Cache-Control %q, want no-store", a.CacheControl)
	}
	if a.NoSniff != "nosniff" {
		t.Errorf("got X-Content-Type-Options %q, want nosniff", a.NoSniff)
	}
	if a.MediaType != "application/json" {
		t.Errorf("got media type %q, want application/json", a.MediaType)
	}
	if a.field("error") == "" || a.field("error_description") == "" {
		t.Errorf("got body %s, want error and error_description", a.Body)
	}
}

// checkSame asserts that every adapter gave the same answer as the first
// one, and logs the table of their answers (with the raw Content-Type of
// each in cts).
func checkSame(t *testing.T, got map[string]answer, cts map[string]string) {
	t.Helper()
	ref, ok := got[adapters[0].name]
	for _, ad := range adapters {
		if g, found := got[ad.name]; found {
			t.Logf("%-8s %s", ad.name, g.row(cts[ad.name]))
		}
	}
	if !ok {
		return
	}
	for _, ad := range adapters[1:] {
		if g, found := got[ad.name]; found && g != ref {
			t.Errorf("%s answered %+v, %s answered %+v: want identical", ad.name, g, adapters[0].name, ref)
		}
	}
}

// TestConformance runs every scenario against every adapter (net/http, Echo
// v4, Echo v5, Gin, each with its framework's default error handling)
// through real HTTP servers, backed by the real verifier and the clerktest
// emulator, and asserts that they all give the same answer: status,
// WWW-Authenticate, Retry-After, Cache-Control, X-Content-Type-Options,
// media type and JSON body; a refusal is never cached nor sniffed. The 499
// of a client gone is TestClientGone's.
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
		{name: "source over budget", auth: "fixed", prepare: func(*testing.T) []string { return bearer("mt_flood") },
			wantStatus: 429, wantRetry: "7", wantError: "too_many_requests"},
		{name: "misconfigured key", auth: "badkey", prepare: func(t *testing.T) []string { return bearer(f.mint(t, f.caller, 0).Token) },
			wantStatus: 500, wantError: "server_error"},
	} {
		t.Run(sc.name, func(t *testing.T) {
			auth := sc.auth
			if auth == "" {
				auth = "main"
			}
			got, cts := map[string]answer{}, map[string]string{}
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
					body, err := io.ReadAll(res.Body)
					res.Body.Close()
					if err != nil {
						t.Fatalf("reading body: %v", err)
					}
					a, err := readAnswer(res.StatusCode, res.Header, body)
					if err != nil {
						t.Fatalf("got %d: %v", res.StatusCode, err)
					}
					got[ad.name], cts[ad.name] = a, res.Header.Get("Content-Type")

					if a.Status != sc.wantStatus {
						t.Errorf("got status %d, want %d", a.Status, sc.wantStatus)
					}
					if (sc.wantPrefix && !strings.HasPrefix(a.WWW, sc.wantWWW)) || (!sc.wantPrefix && a.WWW != sc.wantWWW) {
						t.Errorf("got WWW-Authenticate %q, want %q (prefix: %v)", a.WWW, sc.wantWWW, sc.wantPrefix)
					}
					if a.RetryAfter != sc.wantRetry {
						t.Errorf("got Retry-After %q, want %q", a.RetryAfter, sc.wantRetry)
					}
					if e := a.field("error"); e != sc.wantError {
						t.Errorf("got body error %q, want %q", e, sc.wantError)
					}
					if sc.wantStatus == 200 {
						if s := a.field("subject"); s != f.caller.ID {
							t.Errorf("got subject %q, want %q", s, f.caller.ID)
						}
					} else {
						a.checkRefusal(t)
					}
					for _, h := range headers {
						if tok := strings.TrimPrefix(h, "Bearer "); len(tok) > 8 && strings.Contains(a.WWW+a.Body, tok) {
							t.Errorf("the response echoes the token")
						}
					}
				})
			}
			checkSame(t, got, cts)
		})
	}
}
