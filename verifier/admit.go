package verifier

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"golang.org/x/time/rate"

	"github.com/m2mauth/m2mauth/clerkapi"
)

// admission decides whether a cache miss may cost a call to Clerk's verify
// endpoint. Whatever the inbound traffic, Clerk sees at most:
//   - per source, the source's token bucket (Limits.SourceRate), so one
//     source cannot spend the calls of others;
//   - in all, the Verifier's token bucket (Limits.CallRate);
//   - at once, Limits.MaxInFlight calls, each waiting at most
//     Limits.QueueWait for its slot;
//   - nothing while the breaker is open (breaker.go) or Clerk has asked us
//     to wait (the back-off gate, below).
//
// A refusal costs no call and no connection. The zero value admits
// everything. Safe for concurrent use.
type admission struct {
	sources  *sourceBudgets // nil: no per-source budget
	global   *rate.Limiter  // nil: no overall budget
	slots    chan struct{}  // one element per call in flight; nil: no cap
	slotWait time.Duration
	breaker  *breaker // nil: no breaker
}

// admitMiss is stage 5: whether a miss may go on to a flight. A JWT verified
// locally costs no call to Clerk and is always admitted. Otherwise the miss is
// refused at once while Clerk has asked us to wait (the back-off gate) or the
// breaker is open; else it goes on, carrying the budget of its source ("":
// none), which the flight's call is charged to.
func (v *Verifier) admitMiss(token, source string) (*budget, error) {
	if v.isLocalJWT(token) {
		return nil, nil
	}
	if err := v.backoff.refuse(v.now()); err != nil {
		return nil, err
	}
	return v.admit.check(source)
}

func newAdmission(l Limits, now func() time.Time) *admission {
	a := &admission{slotWait: l.QueueWait}
	if l.SourceRate > 0 {
		a.sources = newSourceBudgets(rate.Limit(l.SourceRate), l.SourceBurst, l.MaxSources)
	}
	if l.CallRate > 0 {
		a.global = rate.NewLimiter(rate.Limit(l.CallRate), l.CallBurst)
	}
	if l.MaxInFlight > 0 {
		a.slots = make(chan struct{}, l.MaxInFlight)
	}
	if l.BreakerFailures > 0 {
		a.breaker = newBreaker(l.BreakerFailures, l.BreakerCooldown, now)
	}
	return a
}

// check is the fast test every miss passes before it joins or starts a
// flight, in the caller's goroutine: while the breaker is open it refuses at
// once. Otherwise it returns the budget of the miss's source (nil without
// per-source budgets, or when the miss has no source: ""), which the
// flight's begin charges. Budgets are charged per flight, never per waiting
// request, so requests joining a flight in progress are never refused by a
// budget.
func (a *admission) check(source string) (*budget, error) {
	if err := a.breaker.refuse(); err != nil {
		return nil, err
	}
	if a.sources == nil || source == "" {
		return nil, nil
	}
	return a.sources.get(source), nil
}

// begin admits one call to Clerk for a flight charged to src (nil: to no
// source, as for a background refresh): it takes a token of src and of the
// overall budget, and a slot among the calls in flight (waiting at most the
// queue wait, or until ctx ends), and asks the breaker. On success the caller
// makes the call and then calls end with its raw outcome; on refusal nothing
// is spent (taken tokens are given back).
func (a *admission) begin(ctx context.Context, now time.Time, src *budget) (end func(error), err error) {
	var srcRes, allRes *rate.Reservation
	refund := func() {
		if srcRes != nil {
			srcRes.CancelAt(now)
		}
		if allRes != nil {
			allRes.CancelAt(now)
		}
	}
	var wait time.Duration
	if src != nil {
		if srcRes, wait = reserve(src.lim, now); srcRes == nil {
			return nil, &RateLimitedError{RetryAfter: ceilSeconds(wait)}
		}
	}
	if a.global != nil {
		if allRes, wait = reserve(a.global, now); allRes == nil {
			refund()
			return nil, &UnavailableError{RetryAfter: ceilSeconds(wait), Err: errOverloaded}
		}
	}
	if a.slots != nil {
		if err := a.acquire(ctx); err != nil {
			refund()
			return nil, err
		}
	}
	release := func() {
		if a.slots != nil {
			<-a.slots
		}
	}
	done, err := a.breaker.allow()
	if err != nil {
		release()
		refund()
		return nil, err
	}
	return func(err error) { done(err); release() }, nil
}

// errSlotWait: no slot among the calls in flight freed up within the queue
// wait.
var errSlotWait = &UnavailableError{RetryAfter: time.Second, Err: errOverloaded}

// acquire takes a slot for a call in flight, waiting at most the queue wait.
func (a *admission) acquire(ctx context.Context) error {
	select {
	case a.slots <- struct{}{}:
		return nil
	default:
	}
	if a.slotWait <= 0 {
		return errSlotWait
	}
	t := time.NewTimer(a.slotWait)
	defer t.Stop()
	select {
	case a.slots <- struct{}{}:
		return nil
	case <-t.C:
		return errSlotWait
	case <-ctx.Done():
		return errSlotWait
	}
}

// inFlight returns the number of calls to Clerk in flight.
func (a *admission) inFlight() int { return len(a.slots) }

// reserve takes one token of lim at now, or takes nothing and returns nil and
// how long until a token is there.
func reserve(lim *rate.Limiter, now time.Time) (*rate.Reservation, time.Duration) {
	r := lim.ReserveN(now, 1)
	if !r.OK() {
		return nil, time.Second
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return nil, d
	}
	return r, 0
}

// sourceBudgets holds one token bucket per source, the least recently used
// forgotten beyond the bound: memory stays bounded whatever the number of
// sources (a forgotten source starts again with a full bucket).
type sourceBudgets struct {
	mu    sync.Mutex
	lru   *simplelru.LRU[string, *budget]
	rate  rate.Limit
	burst int
}

// budget is one source's token bucket.
type budget struct{ lim *rate.Limiter }

func newSourceBudgets(r rate.Limit, burst, max int) *sourceBudgets {
	l, _ := simplelru.NewLRU[string, *budget](max, nil) // max >= 1: validated by the option
	return &sourceBudgets{lru: l, rate: r, burst: burst}
}

// get returns source's bucket, creating a full one for a new source.
func (s *sourceBudgets) get(source string) *budget {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.lru.Get(source); ok {
		return b
	}
	b := &budget{lim: rate.NewLimiter(s.rate, s.burst)}
	s.lru.Add(source, b)
	return b
}

// backoff is the gate that Clerk's Retry-After opens. When Clerk answers 429,
// or a 5xx carrying Retry-After, every later cache miss is refused at once,
// without a call to Clerk, until the deadline it names (capped by
// Limits.MaxBackoff) has passed on the Verifier's clock: new tokens, and a flood
// of made-up well-formed ones, cannot deepen a rate limit. Cache hits are not
// affected. "Open" here means backing off, refusing misses. The zero value
// never opens (max 0).
type backoff struct {
	max   time.Duration             // cap on one back-off; 0 disables the gate
	state atomic.Pointer[gateState] // nil until Clerk first asks us to wait
}

// gateState is immutable: open replaces it as a whole.
type gateState struct {
	until time.Time     // refuse misses while now is before it
	err   *backoffError // the cause every refusal carries
}

// opens reports whether ae asks us to stop calling: a 429 or a 5xx with a
// Retry-After. A 5xx without one, or a network failure, does not.
func opens(ae *clerkapi.APIError) bool {
	return ae.RetryAfter > 0 && (ae.StatusCode == http.StatusTooManyRequests || ae.StatusCode >= 500)
}

// open moves the deadline to now + min(ae.RetryAfter, max) unless the current
// one is later, and reports whether this starts a back-off (the gate was not
// open at now), so that the caller logs each back-off once, not every
// extension.
func (b *backoff) open(now time.Time, ae *clerkapi.APIError) (opened bool) {
	if b.max <= 0 || !opens(ae) {
		return false
	}
	next := &gateState{until: now.Add(min(ae.RetryAfter, b.max)), err: &backoffError{apiErr: ae}}
	for {
		cur := b.state.Load()
		if cur != nil && !next.until.After(cur.until) {
			return false
		}
		if b.state.CompareAndSwap(cur, next) {
			return cur == nil || !now.Before(cur.until)
		}
	}
}

// refuse returns the error for a miss at now while the gate is open, or nil.
// Its RetryAfter is the time left, rounded up to whole seconds (at least 1 s),
// and never more than max.
func (b *backoff) refuse(now time.Time) error {
	s := b.state.Load()
	if s == nil || !now.Before(s.until) {
		return nil
	}
	return &UnavailableError{RetryAfter: min(ceilSeconds(s.until.Sub(now)), b.max), Err: s.err}
}
