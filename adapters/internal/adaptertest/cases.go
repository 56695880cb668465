package adaptertest

import (
	"encoding/json"
	"mime"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/m2mauth/m2mauth/middleware"
	"github.com/m2mauth/m2mauth/verifier"
)

// Case is one row of the table every adapter's middleware test runs: a GET
// of Path with Authorization: Auth through an adapter built on A, the next
// handler serving 200 on both /api and /healthz.
type Case struct {
	Name       string
	A          *middleware.Authenticator
	Path, Auth string
	WantStatus int
	WantWWW    string
	WantRetry  string
	WantToken  bool // the next handler finds Token in the request's context
}

// Cases returns the table, on authenticators built on Fixed: one scoped to
// Audience that skips /healthz, and one for another audience.
func Cases(tb testing.TB) []Case {
	tb.Helper()
	a := New(tb, middleware.WithAudience(Audience),
		middleware.WithSkipper(func(r *http.Request) bool { return r.URL.Path == "/healthz" }))
	other := New(tb, middleware.WithAudience("mch_other"))
	keys := New(tb, middleware.WithAccept(verifier.KindAPIKey), middleware.WithRequiredScopes("orders:read", "orders:write"))
	return []Case{
		{"valid", a, "/api", "Bearer " + GoodToken, 200, "", "", true},
		{"public path", a, "/healthz", "", 200, "", "", false},
		{"missing", a, "/api", "", 401, `Bearer realm="api"`, "", false},
		{"invalid", a, "/api", "Bearer mt_bad", 401, `Bearer realm="api", error="invalid_token", error_description="token not found"`, "", false},
		{"out of scope", other, "/api", "Bearer " + GoodToken, 403, `Bearer realm="api", error="insufficient_scope", error_description="token not scoped to this service"`, "", false},
		{"clerk down", a, "/api", "Bearer mt_down", 503, "", "4", false},
		{"source over budget", a, "/api", "Bearer mt_flood", 429, "", "7", false},
		{"API key on an M2M route", a, "/api", "Bearer " + APIKey, 401, `Bearer realm="api", error="invalid_token", error_description="token of a kind this service does not accept"`, "", false},
		{"API key lacking a scope", keys, "/api", "Bearer " + APIKey, 403, `Bearer realm="api", error="insufficient_scope", error_description="token lacks a scope this service requires", scope="orders:read orders:write"`, "", false},
	}
}

// Request returns the case's GET request.
func (c Case) Request() *http.Request {
	r := httptest.NewRequest(http.MethodGet, c.Path, nil)
	if c.Auth != "" {
		r.Header.Set("Authorization", c.Auth)
	}
	return r
}

// CheckToken asserts what the next handler found in the request's context
// (tok, ok): Token itself when the case wants a token, nothing otherwise.
func (c Case) CheckToken(t testing.TB, tok *verifier.Token, ok bool) {
	t.Helper()
	if ok != c.WantToken || (ok && tok != Token) {
		t.Errorf("got token (%v, %v), want ok=%v", tok, ok, c.WantToken)
	}
}

// Serve serves the case's request through h, then Checks the answer; called
// is set by h's next handler. It reports whether the request was refused.
func (c Case) Serve(t testing.TB, h http.Handler, called *bool) (refused bool) {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, c.Request())
	c.Check(t, w, *called)
	return c.WantStatus != 200
}

// Check asserts the answer w every adapter must give for the case, and
// whether the next handler was called: the status, WWW-Authenticate and
// Retry-After, and on a refusal a JSON error body (error and
// error_description, media type application/json) that must not be cached
// nor sniffed (Cache-Control: no-store, X-Content-Type-Options: nosniff).
func (c Case) Check(t testing.TB, w *httptest.ResponseRecorder, called bool) {
	t.Helper()
	if w.Code != c.WantStatus {
		t.Fatalf("got status %d, want %d", w.Code, c.WantStatus)
	}
	if called != (c.WantStatus == 200) {
		t.Errorf("got next called=%v, want %v", called, c.WantStatus == 200)
	}
	if got := w.Header().Get("WWW-Authenticate"); got != c.WantWWW {
		t.Errorf("got WWW-Authenticate %q, want %q", got, c.WantWWW)
	}
	if got := w.Header().Get("Retry-After"); got != c.WantRetry {
		t.Errorf("got Retry-After %q, want %q", got, c.WantRetry)
	}
	if c.WantStatus == 200 {
		return
	}
	var body middleware.ErrorBody
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.Error == "" || body.Description == "" {
		t.Errorf("got body %q (%v), want a JSON error", w.Body.String(), err)
	}
	if got := w.Header().Get("Cache-Control"); got != "no-store" {
		t.Errorf("got Cache-Control %q, want no-store", got)
	}
	if got := w.Header().Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("got X-Content-Type-Options %q, want nosniff", got)
	}
	ct := w.Header().Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
		t.Errorf("got Content-Type %q, want application/json", ct)
	}
}
