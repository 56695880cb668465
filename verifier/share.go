package verifier

import (
	"math"
	"time"

	"golang.org/x/time/rate"
)

// shares is the Verifier's overall budget (Limits.CallRate, CallBurst), cut
// in two token buckets:
//
//   - the reserved share (Limits.ReservedShare of the rate and of the
//     burst), for the calls known to be worth making: misses of sources in
//     good standing (standing.go), refills of tokens that were valid before
//     a purge, background refreshes;
//   - the unreserved share, the rest, where each source that is not in good
//     standing has a fair part.
//
// One rule shapes both: the upper half of each bucket goes first come, first
// served, to any call; the lower half of the reserved bucket serves only the
// calls entitled to it, and the lower half of the unreserved bucket only
// sources within their fair part. So what nobody needs is never wasted (a
// cold start with no source in good standing yet still has both upper
// halves), while a flood, however many addresses it comes from, gets at most
// the upper halves and its sources' fair parts: the calls in good standing
// keep the reserved share's whole rate and half its burst. One exception: a
// call that is entitled to the reserved share and may wait for it (a refill,
// a miss of a source in good standing: work that was worth doing a moment
// ago) takes, when the reserved share and the upper half are spent, the
// first token due in either share, up to Limits.Timeout from now, rather than
// be refused; after a Redis restart the tokens in use so come back at the
// budget's whole rate.
//
// The fair part: each source outside good standing holds a credit that fills
// at the unreserved share's rate divided by the number of sources that stay
// (that asked for it in two consecutive seconds), up to its part of half the
// share's burst (at least two calls, so that a source asking now and then
// loses nothing to the cap). A new source starts with none.
// A call of such a source takes a token of the lower half only by spending a
// whole credit. Why credits and not a queue (deficit round-robin over waiting
// misses): a miss refused at once costs a flood nothing to send again, while a
// queued one holds a goroutine and a connection, and the fair part comes out
// the same. Why fill credits from the share's rate rather than give each
// source a bucket of its own: the parts never add up to more than the share,
// whatever the number of sources. Why start empty: so that a flood that
// rotates its addresses cannot outrun the sources that stay — each new address
// only competes for the upper halves, first come, first served, and the
// lower half goes to the addresses that keep asking (which is also why only
// they are counted). A source that is new during a flood so gets its first
// call after about (sources that stay) ÷ (the share's rate) seconds; if Clerk
// accepts its token, it is then in good standing.
//
// Not safe for concurrent use: admission.mu guards it.
type shares struct {
	reserved      *rate.Limiter // nil: no reservation (Limits.ReservedShare off)
	open          *rate.Limiter // the unreserved share
	reservedBurst float64
	openRate      float64 // the unreserved share's rate, per second
	openBurst     float64
	window        fairWindow
}

// newShares cuts the budget of rate r and burst b, the fraction share of each
// reserved (0: none). Each share has a burst of at least 1.
func newShares(r float64, b int, share float64) *shares {
	rb := 0
	if share > 0 {
		rb = max(1, min(b-1, int(share*float64(b)+0.5)))
	}
	s := &shares{reservedBurst: float64(rb), openRate: r * (1 - share), openBurst: float64(max(1, b-rb))}
	if share > 0 {
		s.reserved = rate.NewLimiter(rate.Limit(r*share), rb)
	}
	s.open = rate.NewLimiter(rate.Limit(s.openRate), int(s.openBurst))
	return s
}

// takeEntitled takes a token for a call entitled to the reserved share: one
// of the reserved share, else one of the unreserved share's upper half; else,
// if mayWait, the first token due within maxWait of either share (at once if
// the unreserved share's lower half has one), returned with its delay. r is nil when nothing could be taken; retry then says when
// to try again.
func (s *shares) takeEntitled(now time.Time, mayWait bool, maxWait time.Duration) (r *rate.Reservation, delay, retry time.Duration) {
	if s.reserved != nil {
		if r, _ := reserve(s.reserved, now); r != nil {
			return r, 0, 0
		}
	}
	if s.upper(s.open, s.openBurst, now) || s.reserved == nil {
		if r, _ := reserve(s.open, now); r != nil {
			return r, 0, 0
		}
	}
	// The earliest token due.
	for _, lim := range []*rate.Limiter{s.reserved, s.open} {
		if lim == nil {
			continue
		}
		next := lim.ReserveN(now, 1)
		if !next.OK() {
			continue
		}
		d := next.DelayFrom(now)
		if r == nil || d < delay {
			if r != nil {
				r.CancelAt(now)
			}
			r, delay = next, d
		} else {
			next.CancelAt(now)
		}
	}
	if r == nil {
		return nil, 0, time.Second
	}
	if !mayWait || delay > maxWait {
		r.CancelAt(now)
		return nil, 0, delay
	}
	return r, delay, 0
}

// takeOther takes a token for a call of src, a source not in good standing:
// from the unreserved share's lower half by spending a credit (fair true), or
// from either share's upper half. r is nil when none is there; retry then
// says when its next credit is due.
func (s *shares) takeOther(now time.Time, src *source) (r *rate.Reservation, fair bool, retry time.Duration) {
	n := float64(s.window.count(now, src))
	part := s.openRate / n
	src.accrue(now, part, max(2, s.openBurst/2/n))
	tokens := s.open.TokensAt(now)
	switch {
	case src.credit >= 1 && tokens >= 1:
		src.credit--
		r, _ := reserve(s.open, now)
		return r, true, 0
	case s.upper(s.open, s.openBurst, now):
		r, _ := reserve(s.open, now)
		return r, false, 0
	case s.reserved != nil && s.upper(s.reserved, s.reservedBurst, now):
		r, _ := reserve(s.reserved, now)
		return r, false, 0
	}
	if part <= 0 {
		return nil, false, time.Minute
	}
	retry = time.Duration((1 - src.credit) / part * float64(time.Second))
	if tokens < 1 {
		retry = max(retry, time.Duration((1-tokens)/s.openRate*float64(time.Second)))
	}
	return nil, false, retry
}

// upper reports whether lim (of burst b) is more than half full: it keeps
// half its burst (rounded down) after one more token is taken.
func (s *shares) upper(lim *rate.Limiter, b float64, now time.Time) bool {
	return lim.TokensAt(now) >= math.Floor(b/2)+1
}

// fairWindow counts the sources that stay: those that asked for the
// unreserved share in two consecutive seconds. A source seen once (an
// address of a flood that rotates them) does not shrink the others' parts.
type fairWindow struct {
	sec               int64 // the current second (Unix time on the Verifier's clock)
	stayCur, stayPrev int   // sources that stayed into the current second, and into the previous one
}

// count counts src as asking at now and returns the number of sources that
// stay (at least 1).
func (w *fairWindow) count(now time.Time, src *source) int {
	sec := now.Unix()
	if sec != w.sec {
		if sec == w.sec+1 {
			w.stayPrev = w.stayCur
		} else {
			w.stayPrev = 0
		}
		w.sec, w.stayCur = sec, 0
	}
	if src.seen != sec {
		if src.seen == sec-1 {
			w.stayCur++
		}
		src.seen = sec
	}
	return max(1, w.stayCur, w.stayPrev)
}
