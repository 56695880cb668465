package m2mhttp_test

import (
	"net/http"
	"testing"

	"github.com/m2mauth/m2mauth/adapters/internal/adaptertest"
	"github.com/m2mauth/m2mauth/adapters/m2mhttp"
)

// BenchmarkMiddleware compares a bare handler with the same handler behind
// the middleware, the verifier being a fixed-token double (the pure cost of
// extraction, policy and the context copy).
func BenchmarkMiddleware(b *testing.B) {
	a := adaptertest.NewReceiver(b)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{
		{"bare", handler},
		{"m2mhttp", m2mhttp.Middleware(a)(handler)},
	} {
		b.Run(bc.name, func(b *testing.B) { adaptertest.ServeParallel(b, bc.h, adaptertest.GoodToken) })
	}
}
