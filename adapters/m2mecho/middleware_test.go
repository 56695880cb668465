package m2mecho_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/m2mauth/m2mauth/adapters/m2mecho"
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
			e := echo.New()
			called := false
			var seen error
			e.HTTPErrorHandler = func(err error, c echo.Context) {
				seen = err
				e.DefaultHTTPErrorHandler(err, c)
			}
			e.Use(m2mecho.Middleware(tc.a))
			h := func(c echo.Context) error {
				called = true
				tok, ok := m2mecho.Token(c)
				if ok != tc.wantToken || (ok && tok != theToken) {
					t.Errorf("got token (%v, %v), want ok=%v", tok, ok, tc.wantToken)
				}
				return c.NoContent(http.StatusOK)
			}
			e.GET("/api", h)
			e.GET("/healthz", h)
			r := httptest.NewRequest(http.MethodGet, tc.path, nil)
			if tc.auth != "" {
				r.Header.Set("Authorization", tc.auth)
			}
			w := httptest.NewRecorder()
			e.ServeHTTP(w, r)
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
			if tc.wantStatus == 200 {
				return
			}
			var he *echo.HTTPError
			if !errors.As(seen, &he) || he.Code != tc.wantStatus || he.Internal == nil {
				t.Errorf("HTTPErrorHandler got %v, want an *echo.HTTPError %d with the cause as Internal", seen, tc.wantStatus)
			}
			var body middleware.ErrorBody
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.Error == "" || body.Description == "" {
				t.Errorf("got body %q (%v), want a JSON error", w.Body.String(), err)
			}
			if got := w.Header().Get("Cache-Control"); got != "no-store" {
				t.Errorf("got Cache-Control %q, want no-store", got)
			}
		})
	}
}

func TestNextErrorIsReturned(t *testing.T) {
	a, err := middleware.New(fixed)
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	mw := m2mecho.Middleware(a)(func(echo.Context) error { return boom })
	e := echo.New()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer "+goodToken)
	if got := mw(e.NewContext(r, httptest.NewRecorder())); got != boom {
		t.Fatalf("got %v, want next's error %v", got, boom)
	}
}

func TestCustomErrorHandler(t *testing.T) {
	var got error
	a, err := middleware.New(fixed, middleware.WithErrorHandler(func(w http.ResponseWriter, r *http.Request, err error) {
		got = err
		w.WriteHeader(http.StatusTeapot)
	}))
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	w := httptest.NewRecorder()
	ret := m2mecho.Middleware(a)(func(echo.Context) error { t.Error("next called"); return nil })(e.NewContext(httptest.NewRequest(http.MethodGet, "/", nil), w))
	if ret != nil || w.Code != http.StatusTeapot || !errors.Is(got, middleware.ErrMissingToken) {
		t.Fatalf("got (return %v, status %d, handler error %v), want (nil, 418, ErrMissingToken)", ret, w.Code, got)
	}
}

func TestTokenWithoutMiddleware(t *testing.T) {
	c := echo.New().NewContext(httptest.NewRequest(http.MethodGet, "/", nil), httptest.NewRecorder())
	if tok, ok := m2mecho.Token(c); ok || tok != nil {
		t.Fatalf("got (%v, %v), want (nil, false)", tok, ok)
	}
}
