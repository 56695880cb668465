package m2mecho5_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/labstack/echo/v5"

	"github.com/m2mauth/m2mauth/adapters/internal/adaptertest"
	"github.com/m2mauth/m2mauth/adapters/m2mecho5"
)

// BenchmarkMiddleware compares, through Echo v5's router, a handler behind no
// middleware, behind hand-written baselines that store a token the Echo ways
// (c.Set; the request context; both, as the adapter does), and behind the
// adapter with a fixed-token verifier.
func BenchmarkMiddleware(b *testing.B) {
	a := adaptertest.NewReceiver(b)
	for _, bc := range []struct {
		name string
		mw   []echo.MiddlewareFunc
	}{
		{"bare", nil},
		{"baseline-c.Set", []echo.MiddlewareFunc{func(next echo.HandlerFunc) echo.HandlerFunc {
			return func(c *echo.Context) error { c.Set("token", adaptertest.Token); return next(c) }
		}}},
		{"baseline-SetRequest", []echo.MiddlewareFunc{func(next echo.HandlerFunc) echo.HandlerFunc {
			return func(c *echo.Context) error {
				req := c.Request()
				c.SetRequest(req.WithContext(context.WithValue(req.Context(), adaptertest.ContextKey{}, adaptertest.Token)))
				return next(c)
			}
		}}},
		{"baseline-both", []echo.MiddlewareFunc{func(next echo.HandlerFunc) echo.HandlerFunc {
			return func(c *echo.Context) error {
				c.Set("token", adaptertest.Token)
				req := c.Request()
				c.SetRequest(req.WithContext(context.WithValue(req.Context(), adaptertest.ContextKey{}, adaptertest.Token)))
				return next(c)
			}
		}}},
		{"m2mecho5", []echo.MiddlewareFunc{m2mecho5.Middleware(a)}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			e := echo.New()
			e.GET("/api", func(c *echo.Context) error { return c.NoContent(http.StatusNoContent) }, bc.mw...)
			adaptertest.ServeParallel(b, e, adaptertest.GoodToken)
		})
	}
}
