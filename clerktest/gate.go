package clerktest

import (
	"bytes"
	"io"
	"net/http"
	"sync"
)

// A Gate is a Fault that holds requests until it is released. A request that
// reaches a Gate blocks, unanswered, until [Gate.Release] is called (then it
// goes on to the normal handling, body intact), its client gives up (its
// request context ends: the handler returns without an answer) or the server
// closes (the connection is closed without an answer). [Gate.Arrived] tells a
// test when requests are being held, so that it can line up concurrent callers
// without sleeping:
//
//	gate := clerktest.NewGate()
//	srv.InjectOn(clerktest.EndpointCreate, gate)
//	go func() { tok, err = ts.Token(ctx) }()
//	<-gate.Arrived(1) // the create call is at the emulator, held
//	gate.Release()
//
// A request body is read into memory (at most 1 MiB is kept, the rest is
// discarded, and the handler then answers 413 as usual) before the request is
// held: net/http notices a client going away only once the body has been read
// to its end, so a held POST is released when its client gives up too.
//
// A Gate is safe for concurrent use. Make one with NewGate or Hang; the zero
// value is not usable.
type Gate struct {
	open    chan struct{} // closed by Release
	release sync.Once

	mu      sync.Mutex
	arrived int       // requests that reached the gate
	waits   []arrival // Arrived channels not yet closed
}

// arrival is one pending Arrived call: ch is closed once n requests arrived.
type arrival struct {
	n  int
	ch chan struct{}
}

// NewGate returns a Gate that holds every request reaching it until Release.
func NewGate() *Gate { return &Gate{open: make(chan struct{})} }

// Hang returns a Gate meant never to be released: requests block, unanswered,
// until their client gives up or the server closes. Its Arrived tells a test
// when requests are hanging.
func Hang() *Gate { return NewGate() }

// Release opens the gate: held requests, and every later one, go on to the
// normal handling (and to a global fault after an endpoint's). Calling it more
// than once is fine.
func (g *Gate) Release() { g.release.Do(func() { close(g.open) }) }

// Arrived returns a channel that is closed once at least n requests have
// reached the gate since it was made, counting requests still held, released
// ones and ones whose client gave up. A request counts once its body has been
// read, right before it is held.
func (g *Gate) Arrived(n int) <-chan struct{} {
	ch := make(chan struct{})
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.arrived >= n {
		close(ch)
		return ch
	}
	g.waits = append(g.waits, arrival{n: n, ch: ch})
	return ch
}

// Count returns how many requests have reached the gate since it was made.
func (g *Gate) Count() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.arrived
}

func (g *Gate) arrive() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.arrived++
	kept := g.waits[:0]
	for _, a := range g.waits {
		if g.arrived >= a.n {
			close(a.ch)
			continue
		}
		kept = append(kept, a)
	}
	g.waits = kept
}

func (g *Gate) apply(s *Server, w http.ResponseWriter, r *http.Request) bool {
	if !bufferBody(w, r) {
		return true
	}
	g.arrive()
	select {
	case <-g.open:
		return false
	case <-r.Context().Done():
		return true // the client gave up: nobody reads an answer
	case <-s.closing:
		panic(http.ErrAbortHandler) // close the connection without an answer
	}
}

// bufferBody reads r's body to its end, keeping at most maxRequestBody+1
// bytes, and puts what it kept back as r.Body, so that the handler still reads
// it (and still answers 413 when it is too large). A fault that holds a request
// calls it first: net/http watches the connection for the client going away
// only once the body has been read to its end. When the body cannot be read
// (the client gave up or broke it) it answers 400 request_body_invalid and
// reports false.
func bufferBody(w http.ResponseWriter, r *http.Request) bool {
	if r.Body == nil || r.Body == http.NoBody {
		return true
	}
	kept, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
	if err == nil {
		_, err = io.Copy(io.Discard, r.Body)
	}
	if err != nil {
		writeError(w, errBodyInvalid("The request body could not be read."))
		return false
	}
	r.Body = io.NopCloser(bytes.NewReader(kept))
	return true
}
