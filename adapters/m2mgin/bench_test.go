package m2mgin_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/m2mauth/m2mauth/adapters/m2mgin"
	"github.com/m2mauth/m2mauth/middleware"
)

type benchKey struct{}

// BenchmarkMiddleware compares, through Gin's router, a handler behind no
// middleware, behind hand-written baselines that store a token the Gin ways
// (c.Set; the request context), and behind m2mgin with a fixed-token verifier.
func BenchmarkMiddleware(b *testing.B) {
	a, err := middleware.New(fixed, middleware.WithAudience("mch_receiver"))
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		mw   []gin.HandlerFunc
	}{
		{"bare", nil},
		{"baseline-c.Set", []gin.HandlerFunc{func(c *gin.Context) { c.Set("token", theToken) }}},
		{"baseline-Request.WithContext", []gin.HandlerFunc{func(c *gin.Context) {
			c.Request = c.Request.WithContext(context.WithValue(c.Request.Context(), benchKey{}, theToken))
		}}},
		{"m2mgin", []gin.HandlerFunc{m2mgin.Middleware(a)}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			e := gin.New()
			e.GET("/api", append(bc.mw, func(c *gin.Context) { c.Status(http.StatusNoContent) })...)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				r := httptest.NewRequest(http.MethodGet, "/api", nil)
				r.Header.Set("Authorization", "Bearer "+goodToken)
				w := &discard{h: http.Header{}}
				for pb.Next() {
					e.ServeHTTP(w, r)
				}
			})
		})
	}
}
