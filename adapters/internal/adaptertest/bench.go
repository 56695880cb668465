package adaptertest

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// ContextKey is the context key of the benchmarks' hand-written baselines,
// which store Token in a request's context as an adapter does.
type ContextKey struct{}

// Discard is an http.ResponseWriter that allocates nothing per request.
type Discard struct{ h http.Header }

// NewDiscard returns a Discard with an empty header map.
func NewDiscard() *Discard { return &Discard{h: http.Header{}} }

// Header returns the writer's one header map.
func (d *Discard) Header() http.Header { return d.h }

// Write discards b.
func (d *Discard) Write(b []byte) (int, error) { return len(b), nil }

// WriteHeader discards the status.
func (d *Discard) WriteHeader(int) {}

// ServeParallel is a benchmark body: it reports allocations, resets the
// timer and serves GET /api with "Authorization: Bearer token" through h
// from b.RunParallel's goroutines, each reusing one request and one Discard.
func ServeParallel(b *testing.B, h http.Handler, token string) {
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		r := httptest.NewRequest(http.MethodGet, "/api", nil)
		r.Header.Set("Authorization", "Bearer "+token)
		w := NewDiscard()
		for pb.Next() {
			h.ServeHTTP(w, r)
		}
	})
}
