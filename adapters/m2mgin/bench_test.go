package m2mgin_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/m2mauth/m2mauth/adapters/internal/adaptertest"
	"github.com/m2mauth/m2mauth/adapters/m2mgin"
)

// BenchmarkMiddleware compares, through Gin's router, a handler behind no
// middleware, behind hand-written baselines that store a token the Gin ways
// (c.Set; the request context; both, as the adapter does), and behind m2mgin
// with a fixed-token verifier.
func BenchmarkMiddleware(b *testing.B) {
	a := adaptertest.NewReceiver(b)
	for _, bc := range []struct {
		name string
		mw   []gin.HandlerFunc
	}{
		{"bare", nil},
		{"baseline-c.Set", []gin.HandlerFunc{func(c *gin.Context) { c.Set("token", adaptertest.Token) }}},
		{"baseline-Request.WithContext", []gin.HandlerFunc{func(c *gin.Context) {
			c.Request = c.Request.WithContext(context.WithValue(c.Request.Context(), adaptertest.ContextKey{}, adaptertest.Token))
		}}},
		{"baseline-both", []gin.HandlerFunc{func(c *gin.Context) {
			c.Set("token", adaptertest.Token)
			c.Request = c.Request.WithContext(context.WithValue(c.Request.Context(), adaptertest.ContextKey{}, adaptertest.Token))
		}}},
		{"m2mgin", []gin.HandlerFunc{m2mgin.Middleware(a)}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			e := gin.New()
			e.GET("/api", append(bc.mw, func(c *gin.Context) { c.Status(http.StatusNoContent) })...)
			adaptertest.ServeParallel(b, e, adaptertest.GoodToken)
		})
	}
}
