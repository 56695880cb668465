package m2mecho5_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v5"

	"github.com/m2mauth/m2mauth/adapters/internal/adaptertest"
	"github.com/m2mauth/m2mauth/adapters/m2mecho5"
	"github.com/m2mauth/m2mauth/middleware"
)

func TestMiddleware(t *testing.T) {
	for _, tc := range adaptertest.Cases(t) {
		t.Run(tc.Name, func(t *testing.T) {
			e := echo.New()
			called := false
			var seen error
			e.HTTPErrorHandler = func(c *echo.Context, err error) {
				seen = err
				echo.DefaultHTTPErrorHandler(false)(c, err)
			}
			e.Use(m2mecho5.Middleware(tc.A))
			h := func(c *echo.Context) error {
				called = true
				tok, ok := m2mecho5.Token(c)
				tc.CheckToken(t, tok, ok)
				return c.NoContent(http.StatusOK)
			}
			e.GET("/api", h)
			e.GET("/healthz", h)
			if !tc.Serve(t, e, &called) {
				return
			}
			var re *m2mecho5.RefusalError
			var he *echo.HTTPError
			if !errors.As(seen, &re) || re.Status != tc.WantStatus || !errors.As(seen, &he) || he.Code != tc.WantStatus ||
				he.Message != re.Body.Description || he.Unwrap() == nil {
				t.Errorf("HTTPErrorHandler got %v, want a *RefusalError %d wrapping an *echo.HTTPError with the description and the cause", seen, tc.WantStatus)
			}
		})
	}
}

func TestNextErrorIsReturned(t *testing.T) {
	a := adaptertest.NewReceiver(t)
	boom := errors.New("boom")
	mw := m2mecho5.Middleware(a)(func(*echo.Context) error { return boom })
	e := echo.New()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer "+adaptertest.GoodToken)
	if got := mw(e.NewContext(r, httptest.NewRecorder())); got != boom {
		t.Fatalf("got %v, want next's error %v", got, boom)
	}
}

func TestCustomErrorHandler(t *testing.T) {
	a, got := adaptertest.NewTeapot(t)
	e := echo.New()
	w := httptest.NewRecorder()
	ret := m2mecho5.Middleware(a)(func(*echo.Context) error { t.Error("next called"); return nil })(e.NewContext(httptest.NewRequest(http.MethodGet, "/", nil), w))
	if ret != nil || w.Code != http.StatusTeapot || !errors.Is(*got, middleware.ErrMissingToken) {
		t.Fatalf("got (return %v, status %d, handler error %v), want (nil, 418, ErrMissingToken)", ret, w.Code, *got)
	}
}

func TestTokenWithoutMiddleware(t *testing.T) {
	c := echo.New().NewContext(httptest.NewRequest(http.MethodGet, "/", nil), httptest.NewRecorder())
	if tok, ok := m2mecho5.Token(c); ok || tok != nil {
		t.Fatalf("got (%v, %v), want (nil, false)", tok, ok)
	}
}
