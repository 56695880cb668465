package verifier

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"golang.org/x/time/rate"

	"github.com/m2mauth/m2mauth/cache"
	"github.com/m2mauth/m2mauth/clerkapi"
)

// admission decides whether a cache miss may cost a call to Clerk's verify
// endpoint. Whatever the inbound traffic, Clerk sees at most:
//   - per source, the source's token bucket (Limits.SourceRate), so one
//     source cannot spend the calls of others;
//   - in all, the Verifier's overall budget (Limits.CallRate), of which a
//     share is reserved for the calls known to be worth making (sources in
//     good standing, refills after a purge, refreshes) and the rest is
//     shared fairly among the other sources (share.go, standing.go);
//   - at once, Limits.MaxInFlight calls, each waiting at most
//     Limits.QueueWait for its slot;
//   - nothing while the breaker is open (breaker.go) or Clerk has asked us
//     to wait (the back-off gate, below).
//
// A refusal costs no call and no connection. Safe for concurrent use: mu
// guards the per-source state, the good standing and the shares; it is held
// for a few map and bucket operations per miss, never across I/O, and never
// on the hit path.
type admission struct {
	mu       sync.Mutex
	sources  *simplelru.LRU[string, *source] // per-source state; nil: no per-source budget and no overall budget
	anon     *source                         // the misses without a source ("")
	newLim   func() *rate.Limiter            // a new source's budget; nil: no per-source budget
	standing *standing                       // nil: no reserved share, so no good standing to keep
	shares   *shares                         // nil: no overall budget

	slots    chan struct{} // one element per call in flight; nil: no cap
	slotWait time.Duration
	maxWait  time.Duration // how long a call entitled to the reserved share may wait for it (Limits.Timeout)
	maxRetry time.Duration // cap on the Retry-After of a refusal
	breaker  *breaker      // nil: no breaker
	now      func() time.Time

	// Calls admitted, and refused by the overall budget, by class:
	// entitled to the reserved share or not (see class).
	admitted, refused [2]atomic.Uint64
	refills           atomic.Uint64 // refills admitted
}

// The classes of calls, as indexes of admission's counters.
const (
	classReserved   = 0 // entitled to the reserved share: good standing, refills, refreshes
	classUnreserved = 1 // any other
)

// class returns b's class.
func class(b *budget) int {
	if b.reserved {
		return classReserved
	}
	return classUnreserved
}

// source is what admission keeps of one source.
type source struct {
	lim *rate.Limiter // its budget (Limits.SourceRate); nil: none
	// Its place in the unreserved share's line (see shares): the last
	// window it asked in, whether it waits in line (with its number), and
	// whether it holds a ticket (its dealt-th, dealt at ticketAt).
	seen     int64
	queued   bool
	seq      uint64
	ticket   bool
	ticketAt time.Time
	dealt    uint64
	// What check returns for a miss of this source, so that it allocates
	// nothing: charged to it, in good standing or not; a refill of a purge
	// that granted no reserved share (see purges), charged to no source.
	standing, other, lateRefill budget
}

// budget is what a flight's call to Clerk is charged to: its source (src nil:
// none), whose budget it spends if charge, and the share of the overall
// budget it may use.
type budget struct {
	src      *source
	charge   bool // spends a token of src's budget (Limits.SourceRate)
	reserved bool // entitled to the reserved share: good standing, a refill, a refresh
	mayWait  bool // may wait for it, up to admission.maxWait
	refill   bool
}

var (
	// refillBudget is a refill's: charged to no source, on the reserved
	// share, which it may wait for.
	refillBudget = budget{reserved: true, mayWait: true, refill: true}
	// refreshBudget is a background refresh's (a nil *budget): charged to
	// no source, on the reserved share if it has room now.
	refreshBudget = budget{reserved: true}
)

// admitMiss is stage 5: whether the miss of key may go on to a flight. A JWT
// verified locally costs no call to Clerk and is always admitted. Otherwise
// the miss is refused at once while Clerk has asked us to wait (the back-off
// gate) or the breaker is open; else it goes on, carrying what its call will
// be charged to: a refill (a token valid before a purge) to no source, any
// other miss to its source ("": none), in good standing or not.
func (v *Verifier) admitMiss(key cache.Key, token, source string) (*budget, error) {
	if v.isLocalJWT(token) {
		return nil, nil
	}
	now := v.now()
	if err := v.backoff.refuse(now); err != nil {
		return nil, err
	}
	return v.admit.check(source, v.refill(key), now)
}

func newAdmission(l Limits, now func() time.Time) *admission {
	a := &admission{slotWait: l.QueueWait, maxWait: l.Timeout, maxRetry: l.MaxBackoff, now: now}
	if a.maxRetry <= 0 {
		a.maxRetry = time.Minute
	}
	if l.SourceRate > 0 {
		a.newLim = func() *rate.Limiter { return rate.NewLimiter(rate.Limit(l.SourceRate), l.SourceBurst) }
	}
	if l.CallRate > 0 {
		a.shares = newShares(l.CallRate, l.CallBurst, l.ReservedShare, l.MaxSources)
		if a.shares.reserved != nil {
			a.standing = newStanding(l.MaxSources, l.StandingTTL)
		}
	}
	if a.newLim != nil || a.shares != nil {
		a.sources, _ = simplelru.NewLRU[string, *source](l.MaxSources, nil) // MaxSources >= 1: validated by Limits.resolve
	}
	a.anon = newSource(nil)
	if l.MaxInFlight > 0 {
		a.slots = make(chan struct{}, l.MaxInFlight)
	}
	if l.BreakerFailures > 0 {
		a.breaker = newBreaker(l.BreakerFailures, l.BreakerCooldown, now)
	}
	return a
}

func newSource(lim *rate.Limiter) *source {
	s := &source{lim: lim}
	s.standing = budget{src: s, charge: true, reserved: true, mayWait: true}
	s.other = budget{src: s, charge: true}
	s.lateRefill = budget{src: s, refill: true}
	return s
}

// check is the fast test every miss passes before it joins or starts a
// flight, in the caller's goroutine: while the breaker is open it refuses at
// once. Otherwise it returns what the flight's call is to be charged to (see
// budget), which the flight's begin charges. Budgets are charged per flight,
// never per waiting request, so requests joining a flight in progress are
// never refused by a budget.
func (a *admission) check(source string, refill refillKind, now time.Time) (*budget, error) {
	if err := a.breaker.refuse(); err != nil {
		return nil, err
	}
	if refill == refillGranted {
		return &refillBudget, nil
	}
	if source == "" || a.sources == nil {
		if refill == refillLate {
			return &a.anon.lateRefill, nil
		}
		return &a.anon.other, nil // never in good standing: it names nobody
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	src, ok := a.sources.Get(source)
	if !ok {
		var lim *rate.Limiter
		if a.newLim != nil {
			lim = a.newLim()
		}
		src = newSource(lim)
		a.sources.Add(source, src)
	}
	switch {
	case refill == refillLate:
		return &src.lateRefill, nil
	case a.standing != nil && a.standing.has(source, now):
		return &src.standing, nil
	}
	return &src.other, nil
}

// settle records how a miss of source ended, for its good standing.
func (a *admission) settle(source string, err error, now time.Time) {
	if a.standing == nil || source == "" {
		return
	}
	a.mu.Lock()
	a.standing.settle(source, err, now)
	a.mu.Unlock()
}

// taken is what begin took for one call, to give back if it is refused later.
type taken struct {
	src    *rate.Reservation // of the source's budget
	share  *bucket           // the share a token was taken of
	ticket *source           // a ticket of the unreserved share was spent: give it back
}

// begin admits one call to Clerk for a flight charged to b (nil: a background
// refresh): it takes a token of b's source and of the overall budget (waiting
// for the reserved share if b may), a slot among the calls in flight (waiting
// at most the queue wait, or until ctx ends), and asks the breaker. On
// success the caller makes the call and then calls end with its raw outcome;
// on refusal nothing is spent (taken tokens are given back).
func (a *admission) begin(ctx context.Context, now time.Time, b *budget) (end func(error), err error) {
	if b == nil {
		b = &refreshBudget
	}
	t, delay, err := a.take(now, b)
	if err != nil {
		return nil, err
	}
	if delay > 0 {
		if err := sleep(ctx, delay); err != nil {
			a.giveBack(t)
			return nil, err
		}
	}
	if a.slots != nil {
		if err := a.acquire(ctx); err != nil {
			a.giveBack(t)
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
		a.giveBack(t)
		return nil, err
	}
	if a.shares != nil {
		a.admitted[class(b)].Add(1)
	}
	if b.refill {
		a.refills.Add(1)
	}
	return func(err error) { done(err); release() }, nil
}

// take takes, under a.mu, a token of b's source and one of the overall
// budget (a ticket of the unreserved share, or a token of either share, due
// after delay when b may wait for it).
func (a *admission) take(now time.Time, b *budget) (t taken, delay time.Duration, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if b.charge && b.src.lim != nil {
		var wait time.Duration
		if t.src, wait = reserve(b.src.lim, now); t.src == nil {
			return t, 0, &RateLimitedError{RetryAfter: ceilSeconds(wait)}
		}
	}
	if a.shares == nil {
		return t, 0, nil
	}
	var retry time.Duration
	if b.reserved {
		t.share, delay, retry = a.shares.takeEntitled(now, b.mayWait, a.maxWait)
	} else {
		var fair bool
		if t.share, fair, retry = a.shares.takeOther(now, b.src); fair {
			t.ticket = b.src
		}
	}
	if t.share == nil && t.ticket == nil {
		a.refused[class(b)].Add(1)
		if t.src != nil {
			t.src.CancelAt(now)
		}
		return t, 0, &UnavailableError{RetryAfter: min(ceilSeconds(retry), a.maxRetry), Err: errOverloaded}
	}
	return t, delay, nil
}

// giveBack returns what take took, for a call refused after it.
func (a *admission) giveBack(t taken) {
	now := a.now()
	a.mu.Lock()
	defer a.mu.Unlock()
	if t.src != nil {
		t.src.CancelAt(now)
	}
	if t.share != nil {
		t.share.give(1)
	}
	if t.ticket != nil {
		a.shares.giveTicket(t.ticket, now)
	}
}

// sleep waits d, or until ctx ends (Close): then it returns the error of a
// closed Verifier.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return errClosedUnavailable
	}
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

// goodStanding returns the number of sources in good standing at now.
func (a *admission) goodStanding(now time.Time) int {
	if a.standing == nil {
		return 0
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.standing.count(now)
}

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
