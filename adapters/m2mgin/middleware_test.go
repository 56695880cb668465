package m2mgin_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/m2mauth/m2mauth/adapters/m2mgin"
	"github.com/m2mauth/m2mauth/middleware"
)

func init() { gin.SetMode(gin.ReleaseMode) }

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
			e := gin.New()
			called := false
			var ginErrs []*gin.Error
			e.Use(func(c *gin.Context) { c.Next(); ginErrs = c.Errors }) // like a logging middleware
			e.Use(m2mgin.Middleware(tc.a))
			h := func(c *gin.Context) {
				called = true
				tok, ok := m2mgin.Token(c)
				if ok != tc.wantToken || (ok && tok != theToken) {
					t.Errorf("got token (%v, %v), want ok=%v", tok, ok, tc.wantToken)
				}
				c.Status(http.StatusOK)
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
			if len(ginErrs) != 1 || ginErrs[0].Type != gin.ErrorTypePrivate {
				t.Errorf("got c.Errors %v, want the cause as one private error", ginErrs)
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

func TestCustomErrorHandler(t *testing.T) {
	var got error
	a, err := middleware.New(fixed, middleware.WithErrorHandler(func(w http.ResponseWriter, r *http.Request, err error) {
		got = err
		w.WriteHeader(http.StatusTeapot)
	}))
	if err != nil {
		t.Fatal(err)
	}
	e := gin.New()
	e.GET("/", m2mgin.Middleware(a), func(*gin.Context) { t.Error("next called") })
	w := httptest.NewRecorder()
	e.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	if w.Code != http.StatusTeapot || !errors.Is(got, middleware.ErrMissingToken) {
		t.Fatalf("got (status %d, handler error %v), want (418, ErrMissingToken)", w.Code, got)
	}
}

func TestTokenWithoutMiddleware(t *testing.T) {
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	c.Request = httptest.NewRequest(http.MethodGet, "/", nil)
	if tok, ok := m2mgin.Token(c); ok || tok != nil {
		t.Fatalf("got (%v, %v), want (nil, false)", tok, ok)
	}
}
