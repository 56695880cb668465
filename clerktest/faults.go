package clerktest

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/m2mauth/m2mauth/internal/wire"
)

// A Fault changes how the emulator answers, before the normal handling. Build
// one with FailNext, RateLimited, RateLimit, Latency, NewGate, Hang,
// Malformed, Oversized or Drop; a nil Fault means none. A Fault value keeps its own state (how many
// failures are left, which requests fall in the window) and is safe for
// concurrent use.
type Fault interface {
	// apply handles r itself and returns true, or returns false to let the
	// request go on to the normal handling.
	apply(s *Server, w http.ResponseWriter, r *http.Request) bool
}

// faultSet holds the faults in force.
type faultSet struct {
	mu    sync.Mutex
	all   Fault
	byEnd map[Endpoint]Fault
}

// Inject sets the fault applied to every endpoint, replacing the previous one;
// nil removes it. A fault set with InjectOn for an endpoint applies first.
func (s *Server) Inject(f Fault) {
	s.faults.mu.Lock()
	s.faults.all = f
	s.faults.mu.Unlock()
}

// InjectOn sets the fault applied to endpoint e only, replacing the previous
// one; nil removes it.
func (s *Server) InjectOn(e Endpoint, f Fault) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	if s.faults.byEnd == nil {
		s.faults.byEnd = make(map[Endpoint]Fault)
	}
	if f == nil {
		delete(s.faults.byEnd, e)
		return
	}
	s.faults.byEnd[e] = f
}

// ClearFaults removes every fault.
func (s *Server) ClearFaults() {
	s.faults.mu.Lock()
	s.faults.all = nil
	s.faults.byEnd = nil
	s.faults.mu.Unlock()
}

// applyFaults runs the endpoint's fault and then the global one; it reports
// whether a fault answered the request.
func (s *Server) applyFaults(e Endpoint, w http.ResponseWriter, r *http.Request) bool {
	s.faults.mu.Lock()
	one, all := s.faults.byEnd[e], s.faults.all
	s.faults.mu.Unlock()
	for _, f := range []Fault{one, all} {
		if f != nil && f.apply(s, w, r) {
			return true
		}
	}
	return false
}

// FailNext makes the next n requests answer status (e.g. 500, 502, 503) with a
// Clerk error body; later requests are served normally. A status outside
// 400–599 is taken as 500.
func FailNext(n int, status int) Fault {
	if status < 400 || status > 599 {
		status = http.StatusInternalServerError
	}
	return &failNext{left: n, status: status}
}

type failNext struct {
	mu     sync.Mutex
	left   int
	status int
}

func (f *failNext) apply(_ *Server, w http.ResponseWriter, _ *http.Request) bool {
	f.mu.Lock()
	hit := f.left > 0
	if hit {
		f.left--
	}
	f.mu.Unlock()
	if hit {
		writeError(w, errInjected(f.status))
	}
	return hit
}

// RateLimited makes every request answer 429 with Retry-After (retryAfter
// rounded up to whole seconds) until the fault is cleared.
func RateLimited(retryAfter time.Duration) Fault { return rateLimited{retryAfter} }

type rateLimited struct{ d time.Duration }

func (f rateLimited) apply(_ *Server, w http.ResponseWriter, _ *http.Request) bool {
	writeTooMany(w, f.d)
	return true
}

func writeTooMany(w http.ResponseWriter, d time.Duration) {
	e := errTooManyRequests()
	e.header = http.Header{"Retry-After": {strconv.FormatInt(wire.CeilSeconds(d), 10)}}
	writeError(w, e)
}

// RateLimit lets at most n requests through in any window (a sliding window on
// the server's clock); the others answer 429 with Retry-After saying when the
// oldest admitted request leaves the window.
func RateLimit(n int, window time.Duration) Fault { return &rateLimit{n: n, window: window} }

type rateLimit struct {
	mu     sync.Mutex
	n      int
	window time.Duration
	times  []time.Time // admitted requests still in the window, oldest first
}

func (f *rateLimit) apply(s *Server, w http.ResponseWriter, _ *http.Request) bool {
	now := s.now()
	f.mu.Lock()
	i := 0
	for i < len(f.times) && !f.times[i].Add(f.window).After(now) {
		i++
	}
	f.times = f.times[i:]
	var wait time.Duration
	limited := len(f.times) >= f.n
	if limited {
		if len(f.times) > 0 {
			wait = f.times[0].Add(f.window).Sub(now)
		} else {
			wait = f.window
		}
	} else {
		f.times = append(f.times, now)
	}
	f.mu.Unlock()
	if limited {
		writeTooMany(w, max(wait, time.Second))
	}
	return limited
}

// Latency delays every request by d of real time before serving it. The wait
// ends early, without an answer, when the client gives up or the server closes.
// A request body is read (see [Gate]) before the wait, so that a client giving
// up is noticed for a POST too.
func Latency(d time.Duration) Fault { return latency{d: d} }

type latency struct{ d time.Duration }

func (f latency) apply(s *Server, w http.ResponseWriter, r *http.Request) bool {
	if !bufferBody(w, r) {
		return true
	}
	t := time.NewTimer(f.d)
	defer t.Stop()
	select {
	case <-t.C:
		return false
	case <-r.Context().Done():
	case <-s.closing:
		panic(http.ErrAbortHandler) // close the connection without an answer
	}
	return true
}

// Malformed answers 200 with a body that is not valid JSON.
func Malformed() Fault { return malformed{} }

type malformed struct{}

func (malformed) apply(_ *Server, w http.ResponseWriter, _ *http.Request) bool {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write([]byte(`{"object":"machine_to_machine_token","id":"mt_`))
	return true
}

// Oversized answers 200 with an n-byte body (a JSON object padded with
// spaces), streamed so that neither side needs n bytes of memory.
func Oversized(n int64) Fault { return oversized{n} }

type oversized struct{ n int64 }

func (f oversized) apply(s *Server, w http.ResponseWriter, r *http.Request) bool {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.FormatInt(max(f.n, 0), 10))
	w.WriteHeader(http.StatusOK)
	head, tail := []byte(`{"pad":"`), []byte(`"}`)
	left := f.n
	if left < int64(len(head)+len(tail)) {
		w.Write([]byte(`{"pad":"x"}`[:max(left, 0)]))
		return true
	}
	w.Write(head)
	left -= int64(len(head) + len(tail))
	chunk := make([]byte, 32<<10)
	for i := range chunk {
		chunk[i] = ' '
	}
	for left > 0 {
		select {
		case <-r.Context().Done():
			return true
		case <-s.closing:
			return true
		default:
		}
		c := chunk[:min(int64(len(chunk)), left)]
		if _, err := w.Write(c); err != nil {
			return true
		}
		left -= int64(len(c))
	}
	w.Write(tail)
	return true
}

// Drop closes the connection without an answer.
func Drop() Fault { return drop{} }

type drop struct{}

func (drop) apply(_ *Server, w http.ResponseWriter, _ *http.Request) bool {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler) // HTTP/2: the server resets the stream
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	conn.Close()
	return true
}
