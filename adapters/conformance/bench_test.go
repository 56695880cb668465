package conformance_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/labstack/echo/v4"
	echo5 "github.com/labstack/echo/v5"

	"github.com/m2mauth/m2mauth/adapters/internal/adaptertest"
	"github.com/m2mauth/m2mauth/adapters/m2mecho"
	"github.com/m2mauth/m2mauth/adapters/m2mecho5"
	"github.com/m2mauth/m2mauth/adapters/m2mgin"
	"github.com/m2mauth/m2mauth/adapters/m2mhttp"
	"github.com/m2mauth/m2mauth/clerktest"
)

// withValue is the hand-written baseline for net/http: a middleware that only
// stores a value in the request's context.
func withValue(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), adaptertest.ContextKey{}, next)))
	})
}

// BenchmarkCacheHit measures each adapter on a warm cache of the real
// verifier (one verify call to the emulator before the timer starts), next to
// the same framework's bare route and a hand-written middleware that only
// stores a value in the request context.
func BenchmarkCacheHit(b *testing.B) {
	f := newFixture(b)
	a := f.auths["main"]
	tok := f.mint(b, f.caller, 0).Token
	noop := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	echoRoute := func(mw ...echo.MiddlewareFunc) http.Handler {
		e := echo.New()
		e.GET("/api", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) }, mw...)
		return e
	}
	echo5Route := func(mw ...echo5.MiddlewareFunc) http.Handler {
		e := echo5.New()
		e.GET("/api", func(c *echo5.Context) error { return c.NoContent(http.StatusNoContent) }, mw...)
		return e
	}
	ginRoute := func(mw ...gin.HandlerFunc) http.Handler {
		e := gin.New()
		e.GET("/api", append(mw, func(c *gin.Context) { c.Status(http.StatusNoContent) })...)
		return e
	}
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{
		{"net/http/bare", noop},
		{"net/http/baseline-ctx", withValue(noop)},
		{"net/http/m2mhttp", m2mhttp.Middleware(a)(noop)},
		{"echo/bare", echoRoute()},
		{"echo/baseline-ctx", echoRoute(func(next echo.HandlerFunc) echo.HandlerFunc {
			return func(c echo.Context) error {
				c.SetRequest(c.Request().WithContext(context.WithValue(c.Request().Context(), adaptertest.ContextKey{}, b)))
				return next(c)
			}
		})},
		{"echo/m2mecho", echoRoute(m2mecho.Middleware(a))},
		{"echo5/bare", echo5Route()},
		{"echo5/baseline-ctx", echo5Route(func(next echo5.HandlerFunc) echo5.HandlerFunc {
			return func(c *echo5.Context) error {
				c.SetRequest(c.Request().WithContext(context.WithValue(c.Request().Context(), adaptertest.ContextKey{}, b)))
				return next(c)
			}
		})},
		{"echo5/m2mecho5", echo5Route(m2mecho5.Middleware(a))},
		{"gin/bare", ginRoute()},
		{"gin/baseline-ctx", ginRoute(func(c *gin.Context) {
			c.Request = c.Request.WithContext(context.WithValue(c.Request.Context(), adaptertest.ContextKey{}, b))
		})},
		{"gin/m2mgin", ginRoute(m2mgin.Middleware(a))},
	} {
		b.Run(bc.name, func(b *testing.B) {
			warm := httptest.NewRequest(http.MethodGet, "/api", nil)
			warm.Header.Set("Authorization", "Bearer "+tok)
			rec := httptest.NewRecorder()
			bc.h.ServeHTTP(rec, warm)
			if rec.Code != http.StatusNoContent {
				b.Fatalf("warm-up: got status %d, want 204", rec.Code)
			}
			before := f.clerk.Calls(clerktest.EndpointVerify)
			adaptertest.ServeParallel(b, bc.h, tok)
			b.StopTimer()
			if after := f.clerk.Calls(clerktest.EndpointVerify); after != before {
				b.Fatalf("got %d verify calls during the benchmark, want 0 (cache hits)", after-before)
			}
		})
	}
}
