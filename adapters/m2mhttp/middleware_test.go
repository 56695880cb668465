package m2mhttp_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/m2mauth/m2mauth/adapters/internal/adaptertest"
	"github.com/m2mauth/m2mauth/adapters/m2mhttp"
	"github.com/m2mauth/m2mauth/middleware"
)

func TestMiddleware(t *testing.T) {
	for _, tc := range adaptertest.Cases(t) {
		t.Run(tc.Name, func(t *testing.T) {
			called := false
			h := m2mhttp.Middleware(tc.A)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				called = true
				tok, ok := m2mhttp.Token(r)
				tc.CheckToken(t, tok, ok)
				if tok2, _ := middleware.TokenFromContext(r.Context()); tok2 != tok {
					t.Errorf("TokenFromContext got %v, want %v", tok2, tok)
				}
			}))
			tc.Serve(t, h, &called)
		})
	}
}

func TestCustomErrorHandler(t *testing.T) {
	a, got := adaptertest.NewTeapot(t)
	h := m2mhttp.Middleware(a)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("next called") }))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	if w.Code != http.StatusTeapot || !errors.Is(*got, middleware.ErrMissingToken) {
		t.Fatalf("got (status %d, handler error %v), want (418, ErrMissingToken)", w.Code, *got)
	}
}

// TestAllocations pins the hot-path cost: on an accepted token the
// middleware adds at most two allocations (context.WithValue, r.WithContext)
// over the bare handler.
func TestAllocations(t *testing.T) {
	a := adaptertest.NewReceiver(t)
	var sink bool
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, sink = m2mhttp.Token(r) })
	wrapped := m2mhttp.Middleware(a)(bare)
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer "+adaptertest.GoodToken)
	w := adaptertest.NewDiscard()
	base := testing.AllocsPerRun(200, func() { bare.ServeHTTP(w, r) })
	got := testing.AllocsPerRun(200, func() { wrapped.ServeHTTP(w, r) })
	if got-base > 2 {
		t.Fatalf("got %v allocations over the bare handler's %v, want at most 2", got-base, base)
	}
	_ = sink
}
