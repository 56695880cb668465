package m2mecho5_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v5"
	echomw "github.com/labstack/echo/v5/middleware"

	"github.com/m2mauth/m2mauth/adapters/internal/adaptertest"
	"github.com/m2mauth/m2mauth/adapters/m2mecho5"
	"github.com/m2mauth/m2mauth/middleware"
)

// hooks are the Echo-native settings shared by Echo's KeyAuthConfig and
// m2mecho5.Config.
type hooks struct {
	skipper      echomw.Skipper
	errorHandler func(c *echo.Context, err error) error
	continueOn   bool
}

// keyAuth is Echo's own KeyAuth with h, refusing every key: the reference.
func (h hooks) keyAuth() echo.MiddlewareFunc {
	cfg := echomw.KeyAuthConfig{Skipper: h.skipper, ContinueOnIgnoredError: h.continueOn,
		Validator: func(*echo.Context, string, echomw.ExtractorSource) (bool, error) { return false, nil }}
	if h.errorHandler != nil {
		cfg.ErrorHandler = echomw.KeyAuthErrorHandler(h.errorHandler)
	}
	return echomw.KeyAuthWithConfig(cfg)
}

func (h hooks) m2mecho(tb testing.TB) echo.MiddlewareFunc {
	return m2mecho5.MiddlewareWithConfig(m2mecho5.Config{Authenticator: adaptertest.NewReceiver(tb),
		Skipper: h.skipper, ErrorHandler: h.errorHandler, ContinueOnIgnoredError: h.continueOn})
}

// outcome is what a refused request led to.
type outcome struct {
	status int
	next   bool  // the next handler ran
	seen   error // what HTTPErrorHandler got; errRefusal: a 401 *echo.HTTPError made by the middleware
}

var errRefusal = errors.New("the refusal")

// serve sends GET /api with an invalid bearer token through mw.
func serve(t *testing.T, mw echo.MiddlewareFunc) outcome {
	t.Helper()
	e := echo.New()
	var o outcome
	e.HTTPErrorHandler = func(c *echo.Context, err error) {
		o.seen = err
		if he := (*echo.HTTPError)(nil); errors.As(err, &he) && he.Code == http.StatusUnauthorized && he.Unwrap() != nil {
			o.seen = errRefusal
		}
		echo.DefaultHTTPErrorHandler(false)(c, err)
	}
	e.GET("/api", func(c *echo.Context) error {
		o.next = true
		if tok, ok := m2mecho5.Token(c); ok {
			t.Errorf("got token %v in a refused request, want none", tok)
		}
		return c.String(http.StatusOK, "next")
	}, mw)
	r := httptest.NewRequest(http.MethodGet, "/api", nil)
	r.Header.Set("Authorization", "Bearer mt_bad")
	w := httptest.NewRecorder()
	e.ServeHTTP(w, r)
	o.status = w.Code
	return o
}

// TestHooksAsKeyAuth runs the same hooks through Echo's KeyAuth and through
// m2mecho: the skipper of *echo.Context skips, the ErrorHandler's error
// reaches HTTPErrorHandler, nil continues only with ContinueOnIgnoredError,
// and nil after writing a response stops the chain, alike. Where they differ
// on purpose (nil with nothing written: KeyAuth answers an empty 200, m2mecho
// fails closed) the case says so.
func TestHooksAsKeyAuth(t *testing.T) {
	teapot := echo.NewHTTPError(http.StatusTeapot, "teapot")
	for _, tc := range []struct {
		name    string
		h       hooks
		want    outcome
		keyAuth *outcome // what KeyAuth does when it differs from want
	}{
		{"no hooks", hooks{}, outcome{status: 401, seen: errRefusal}, nil},
		{"skipper skips", hooks{skipper: func(c *echo.Context) bool { return c.Path() == "/api" }},
			outcome{status: 200, next: true}, nil},
		{"skipper declines", hooks{skipper: func(c *echo.Context) bool { return c.Path() == "/public" }},
			outcome{status: 401, seen: errRefusal}, nil},
		{"returned error reaches HTTPErrorHandler", hooks{errorHandler: func(*echo.Context, error) error { return teapot }},
			outcome{status: 418, seen: teapot}, nil},
		{"returned error, even with ContinueOnIgnoredError", hooks{errorHandler: func(*echo.Context, error) error { return teapot }, continueOn: true},
			outcome{status: 418, seen: teapot}, nil},
		{"nil with ContinueOnIgnoredError continues", hooks{errorHandler: func(*echo.Context, error) error { return nil }, continueOn: true},
			outcome{status: 200, next: true}, nil},
		{"nil after writing stops the chain", hooks{errorHandler: func(c *echo.Context, _ error) error {
			return c.String(http.StatusUnauthorized, "go away")
		}}, outcome{status: 401}, nil},
		{"nil having written nothing fails closed", hooks{errorHandler: func(*echo.Context, error) error { return nil }},
			outcome{status: 401, seen: errRefusal}, &outcome{status: 200}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := serve(t, tc.h.m2mecho(t))
			if got != tc.want {
				t.Errorf("m2mecho: got %+v, want %+v", got, tc.want)
			}
			wantKA := tc.want
			if tc.keyAuth != nil {
				wantKA = *tc.keyAuth
			}
			if got := serve(t, tc.h.keyAuth()); got != wantKA {
				t.Errorf("KeyAuth: got %+v, want %+v", got, wantKA)
			}
		})
	}
}

// TestErrorHandlerSeesTheRefusal: the ErrorHandler gets the *RefusalError
// the middleware would return, with an *echo.HTTPError whose Message is the
// description and the cause inside, and the headers already set; returning
// it unchanged gives the default answer.
func TestErrorHandlerSeesTheRefusal(t *testing.T) {
	var got error
	var www string
	mw := m2mecho5.MiddlewareWithConfig(m2mecho5.Config{Authenticator: adaptertest.NewReceiver(t),
		ErrorHandler: func(c *echo.Context, err error) error {
			got, www = err, c.Response().Header().Get("WWW-Authenticate")
			return err
		}})
	e := echo.New()
	e.GET("/api", func(c *echo.Context) error { t.Error("next called"); return nil }, mw)
	w := httptest.NewRecorder()
	e.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/api", nil))

	var re *m2mecho5.RefusalError
	var he *echo.HTTPError
	if !errors.As(got, &re) || re.StatusCode() != 401 || !errors.As(got, &he) || he.Code != 401 ||
		!errors.Is(got, middleware.ErrMissingToken) {
		t.Fatalf("got %#v, want a *RefusalError 401 wrapping an *echo.HTTPError 401 wrapping ErrMissingToken", got)
	}
	if he.Message != "no bearer token" || re.Body.Description != he.Message {
		t.Errorf("got Message %q and description %q, want %q", he.Message, re.Body.Description, "no bearer token")
	}
	if !strings.Contains(he.Error(), "message=no bearer token") {
		t.Errorf("got Error() %q, want it to carry the description", he.Error())
	}
	if www != `Bearer realm="api"` {
		t.Errorf("got WWW-Authenticate %q when the handler ran, want it set", www)
	}
	if w.Code != 401 || !strings.Contains(w.Body.String(), `"error":"missing_token"`) {
		t.Errorf("got %d %s, want the default 401 missing_token", w.Code, w.Body)
	}
}

// TestContinuedRequestCarriesNoRefusal: a request let through by
// ContinueOnIgnoredError has no token and none of the refusal's headers.
func TestContinuedRequestCarriesNoRefusal(t *testing.T) {
	mw := m2mecho5.MiddlewareWithConfig(m2mecho5.Config{Authenticator: adaptertest.NewReceiver(t),
		ErrorHandler: func(*echo.Context, error) error { return nil }, ContinueOnIgnoredError: true})
	e := echo.New()
	e.GET("/api", func(c *echo.Context) error {
		if tok, ok := m2mecho5.Token(c); ok {
			t.Errorf("got token %v, want none", tok)
		}
		return c.NoContent(http.StatusOK)
	}, mw)
	for _, tc := range []struct{ name, auth string }{
		{"missing (WWW-Authenticate)", ""},
		{"clerk down (Retry-After)", "Bearer mt_down"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/api", nil)
			if tc.auth != "" {
				r.Header.Set("Authorization", tc.auth)
			}
			w := httptest.NewRecorder()
			e.ServeHTTP(w, r)
			if w.Code != 200 {
				t.Errorf("got %d, want 200", w.Code)
			}
			for _, h := range []string{"WWW-Authenticate", "Retry-After", "Cache-Control", "X-Content-Type-Options"} {
				if got := w.Header().Get(h); got != "" {
					t.Errorf("got %s %q, want none", h, got)
				}
			}
		})
	}
}

// TestContextKey: the token is in c.Get under the configured key (or
// DefaultContextKey) and in the request's context; Token finds it either way.
func TestContextKey(t *testing.T) {
	for _, tc := range []struct {
		name, key, wantKey string
	}{
		{"default", "", m2mecho5.DefaultContextKey},
		{"custom", "caller", "caller"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mw := m2mecho5.MiddlewareWithConfig(m2mecho5.Config{Authenticator: adaptertest.NewReceiver(t), ContextKey: tc.key})
			e := echo.New()
			called := false
			e.GET("/api", func(c *echo.Context) error {
				called = true
				if got := c.Get(tc.wantKey); got != adaptertest.Token {
					t.Errorf("got c.Get(%q) = %v, want the token", tc.wantKey, got)
				}
				if got, ok := middleware.TokenFromContext(c.Request().Context()); got != adaptertest.Token || !ok {
					t.Errorf("got (%v, %v) in the request's context, want the token", got, ok)
				}
				if got, ok := m2mecho5.Token(c); got != adaptertest.Token || !ok {
					t.Errorf("got Token (%v, %v), want the token", got, ok)
				}
				return c.NoContent(http.StatusOK)
			}, mw)
			r := httptest.NewRequest(http.MethodGet, "/api", nil)
			r.Header.Set("Authorization", "Bearer "+adaptertest.GoodToken)
			e.ServeHTTP(httptest.NewRecorder(), r)
			if !called {
				t.Fatal("next not called")
			}
		})
	}
}

// TestTokenFromCGet: Token reads a token that other code stored with c.Set
// under DefaultContextKey.
func TestTokenFromCGet(t *testing.T) {
	c := echo.New().NewContext(httptest.NewRequest(http.MethodGet, "/", nil), httptest.NewRecorder())
	c.Set(m2mecho5.DefaultContextKey, adaptertest.Token)
	if got, ok := m2mecho5.Token(c); got != adaptertest.Token || !ok {
		t.Fatalf("got (%v, %v), want the token", got, ok)
	}
}

func TestConfigIsValidated(t *testing.T) {
	a := adaptertest.NewReceiver(t)
	for _, tc := range []struct {
		name string
		cfg  m2mecho5.Config
		want string // "" builds
	}{
		{"defaults", m2mecho5.Config{Authenticator: a}, ""},
		{"no Authenticator", m2mecho5.Config{}, "Authenticator is required"},
		{"ContinueOnIgnoredError alone", m2mecho5.Config{Authenticator: a, ContinueOnIgnoredError: true}, "needs an ErrorHandler"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mw, err := tc.cfg.ToMiddleware()
			if tc.want == "" {
				if err != nil || mw == nil {
					t.Fatalf("got (%v, %v), want a middleware", mw != nil, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got error %v, want one saying %q", err, tc.want)
			}
			defer func() {
				if r := recover(); r == nil {
					t.Errorf("MiddlewareWithConfig did not panic, want a panic")
				}
			}()
			m2mecho5.MiddlewareWithConfig(tc.cfg)
		})
	}
}
