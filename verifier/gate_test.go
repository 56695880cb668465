package verifier_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// gate is a Clerk in front of the emulator that holds every verify request
// until release (or until its client gives up), so that tests know exactly
// how many calls are in flight instead of guessing from latencies. It
// records the most requests it held at once.
type gate struct {
	URL     string
	arrived chan struct{} // one value per verify request held
	permits chan struct{} // one value lets one held request through
	open    chan struct{} // closed by release

	mu         sync.Mutex
	held, peak int
}

func newGate(t *testing.T, e *env) *gate {
	t.Helper()
	g := &gate{arrived: make(chan struct{}, 1<<16), permits: make(chan struct{}, 1<<16), open: make(chan struct{})}
	next := e.srv.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/m2m_tokens/verify") {
			g.mu.Lock()
			g.held++
			g.peak = max(g.peak, g.held)
			g.mu.Unlock()
			g.arrived <- struct{}{}
			select {
			case <-g.open:
			case <-g.permits:
			case <-r.Context().Done():
			}
			g.mu.Lock()
			g.held--
			g.mu.Unlock()
		}
		next.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(g.release) // before srv.Close: let held requests finish
	g.URL = srv.URL + "/v1"
	return g
}

// wait returns once n more verify requests have arrived.
func (g *gate) wait(n int) {
	for range n {
		<-g.arrived
	}
}

// let lets n held (or future) requests through.
func (g *gate) let(n int) {
	for range n {
		g.permits <- struct{}{}
	}
}

// release lets every held and future request through.
func (g *gate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.open:
	default:
		close(g.open)
	}
}

// maxHeld returns the most verify requests held at once.
func (g *gate) maxHeld() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.peak
}
