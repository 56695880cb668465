package m2mhttp_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/m2mauth/m2mauth/adapters/m2mhttp"
	"github.com/m2mauth/m2mauth/middleware"
)

func TestMiddleware(t *testing.T) {
	a, err := middleware.New(fixed, middleware.WithAudience("mch_receiver"),
		middleware.WithSkipper(func(r *http.Request) bool { return r.URL.Path == "/healthz" }))
	if err != nil {
		t.Fatal(err)
	}
	other, err := middleware.New(fixed, middleware.WithAudience("mch_other"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		a          *middleware.Authenticator
		path, auth string
		wantStatus int
		wantWWW    string
		wantRetry  string
		wantToken  bool
	}{
		{"valid", a, "/api", "Bearer " + goodToken, 200, "", "", true},
		{"public path", a, "/healthz", "", 200, "", "", false},
		{"missing", a, "/api", "", 401, `Bearer realm="api"`, "", false},
		{"invalid", a, "/api", "Bearer mt_bad", 401, `Bearer realm="api", error="invalid_token", error_description="token not found"`, "", false},
		{"out of scope", other, "/api", "Bearer " + goodToken, 403, `Bearer realm="api", error="insufficient_scope", error_description="token not scoped to this service"`, "", false},
		{"clerk down", a, "/api", "Bearer mt_down", 503, "", "4", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			called := false
			h := m2mhttp.Middleware(tc.a)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				called = true
				tok, ok := m2mhttp.Token(r)
				if ok != tc.wantToken || (ok && tok != theToken) {
					t.Errorf("got token (%v, %v), want ok=%v", tok, ok, tc.wantToken)
				}
				if tok2, _ := middleware.TokenFromContext(r.Context()); tok2 != tok {
					t.Errorf("TokenFromContext got %v, want %v", tok2, tok)
				}
			}))
			r := httptest.NewRequest(http.MethodGet, tc.path, nil)
			if tc.auth != "" {
				r.Header.Set("Authorization", tc.auth)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tc.wantStatus {
				t.Fatalf("got status %d, want %d", w.Code, tc.wantStatus)
			}
			if called != (tc.wantStatus == 200) {
				t.Errorf("got next called=%v, want %v", called, tc.wantStatus == 200)
			}
			if got := w.Header().Get("WWW-Authenticate"); got != tc.wantWWW {
				t.Errorf("got WWW-Authenticate %q, want %q", got, tc.wantWWW)
			}
			if got := w.Header().Get("Retry-After"); got != tc.wantRetry {
				t.Errorf("got Retry-After %q, want %q", got, tc.wantRetry)
			}
			if tc.wantStatus != 200 {
				var body middleware.ErrorBody
				if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.Error == "" {
					t.Errorf("got body %q (%v), want a JSON error", w.Body.String(), err)
				}
			}
		})
	}
}

func TestCustomErrorHandler(t *testing.T) {
	a, err := middleware.New(fixed, middleware.WithErrorHandler(func(w http.ResponseWriter, r *http.Request, err error) {
		http.Error(w, "go away", http.StatusTeapot)
	}))
	if err != nil {
		t.Fatal(err)
	}
	h := m2mhttp.Middleware(a)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("next called") }))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	if w.Code != http.StatusTeapot {
		t.Fatalf("got status %d, want 418", w.Code)
	}
}

// TestAllocations pins the hot-path cost: on an accepted token the
// middleware adds at most two allocations (context.WithValue, r.WithContext)
// over the bare handler.
func TestAllocations(t *testing.T) {
	a, err := middleware.New(fixed, middleware.WithAudience("mch_receiver"))
	if err != nil {
		t.Fatal(err)
	}
	var sink bool
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, sink = m2mhttp.Token(r) })
	wrapped := m2mhttp.Middleware(a)(bare)
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer "+goodToken)
	w := &discard{h: http.Header{}}
	base := testing.AllocsPerRun(200, func() { bare.ServeHTTP(w, r) })
	got := testing.AllocsPerRun(200, func() { wrapped.ServeHTTP(w, r) })
	if got-base > 2 {
		t.Fatalf("got %v allocations over the bare handler's %v, want at most 2", got-base, base)
	}
	_ = sink
}
