package m2mhttp_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/m2mauth/m2mauth/adapters/m2mhttp"
	"github.com/m2mauth/m2mauth/middleware"
)

// BenchmarkMiddleware compares a bare handler with the same handler behind
// the middleware, the verifier being a fixed-token double (the pure cost of
// extraction, policy and the context copy).
func BenchmarkMiddleware(b *testing.B) {
	a, err := middleware.New(fixed, middleware.WithAudience("mch_receiver"))
	if err != nil {
		b.Fatal(err)
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{
		{"bare", handler},
		{"m2mhttp", m2mhttp.Middleware(a)(handler)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				r := httptest.NewRequest(http.MethodGet, "/api", nil)
				r.Header.Set("Authorization", "Bearer "+goodToken)
				w := &discard{h: http.Header{}}
				for pb.Next() {
					bc.h.ServeHTTP(w, r)
				}
			})
		})
	}
}
