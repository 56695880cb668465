package verifier

import (
	"math"
	"time"
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
// served, to any call; the rest of the reserved bucket serves only the calls
// entitled to it, and the rest of the unreserved bucket only the sources'
// fair parts. So what nobody needs is never wasted (a cold start with no
// source in good standing yet still has both upper halves), while a flood,
// however many addresses it comes from, gets at most the upper halves and its
// sources' fair parts: the calls in good standing keep the reserved share's
// whole rate and half its burst. One exception: a call that is entitled to
// the reserved share and may wait for it (a refill, a miss of a source in
// good standing: work that was worth doing a moment ago) takes, when the
// reserved share and the upper half are spent, the first token due in either
// share, up to Limits.Timeout from now, rather than be refused; after a Redis
// restart the tokens in use so come back at the budget's whole rate.
//
// The fair part: the unreserved share's rate is dealt out, as it comes, to
// the sources that stay — those that asked for it in two consecutive
// windows of fairWindow — each getting the rate divided by their number, up
// to two calls held at once. A source's part is taken out of the bucket when
// it is dealt (lazily, when the source next asks, for the time since it last
// did), so it is the source's own: a call within its part needs no race for
// the bucket's last token, and a source asking once a second gets its part
// as surely as one asking a thousand times. A call beyond its part is
// refused at once, or takes from the upper half. Why this and not a queue
// (deficit round-robin over waiting misses): a miss refused at once costs a
// flood nothing to send again, while a queued one holds a goroutine and a
// connection, and with N sources sharing a rate R a queued miss would wait
// N/R anyway. Why only the sources that stay: an address seen once (a flood
// that rotates them), or again only after a gap, is dealt nothing — it would
// otherwise shrink the parts of the others and then never use its own — and
// competes for the upper halves, first come, first served. A source that is
// new during a flood so gets its first call after about (sources that stay)
// ÷ (the share's rate) seconds; if Clerk accepts its token, it is then in
// good standing.
//
// Not safe for concurrent use: admission.mu guards it.
type shares struct {
	reserved *bucket // nil: no reservation (Limits.ReservedShare off)
	open     *bucket // the unreserved share
	window   window
}

// fairWindow is how long a source may go without asking and stay counted
// among the sources sharing the unreserved share.
const fairWindow = 2 * time.Second

// creditCap is the most of its fair part a source holds, in calls.
const creditCap = 2

// newShares cuts the budget of rate r and burst b, the fraction share of each
// reserved (0: none). Each share has a burst of at least 1.
func newShares(r float64, b int, share float64) *shares {
	rb := 0
	if share > 0 {
		rb = max(1, min(b-1, int(share*float64(b)+0.5)))
	}
	s := &shares{open: newBucket(r*(1-share), float64(max(1, b-rb)))}
	if share > 0 {
		s.reserved = newBucket(r*share, float64(rb))
	}
	return s
}

// takeEntitled takes a token for a call entitled to the reserved share: one
// of the reserved share, else one of the unreserved share's upper half; else,
// if mayWait, the first token due within maxWait of either share (at once if
// the unreserved share has one), returned with its delay. from is nil when
// nothing was taken; retry then says when to try again.
func (s *shares) takeEntitled(now time.Time, mayWait bool, maxWait time.Duration) (from *bucket, delay, retry time.Duration) {
	switch {
	case s.reserved != nil && s.reserved.level(now) >= 1:
		from = s.reserved
	case s.open.upper(now) || (s.reserved == nil && s.open.level(now) >= 1):
		from = s.open
	}
	if from != nil {
		from.take(now, 1)
		return from, 0, 0
	}
	// The first token due, of either share.
	from, delay = s.open, s.open.due(now)
	if s.reserved != nil {
		if d := s.reserved.due(now); d < delay {
			from, delay = s.reserved, d
		}
	}
	if !mayWait || delay > maxWait {
		return nil, 0, delay
	}
	from.take(now, 1)
	return from, delay, 0
}

// takeOther takes a token for a call of src, a source not in good standing:
// of its fair part (fair true: from is nil, the token was its own), or of
// either share's upper half. Neither: fair false, from nil, and retry says
// when its fair part has a call.
func (s *shares) takeOther(now time.Time, src *source) (from *bucket, fair bool, retry time.Duration) {
	n, stays := s.window.count(now, src)
	part := s.open.rate / float64(n)
	if stays && src.credit < creditCap {
		want := min(creditCap-src.credit, now.Sub(src.last).Seconds()*part)
		got := max(0, min(want, s.open.level(now)))
		s.open.take(now, got)
		src.credit += got
	}
	src.last = now
	switch {
	case src.credit >= 1:
		src.credit--
		return nil, true, 0
	case s.open.upper(now):
		from = s.open
	case s.reserved != nil && s.reserved.upper(now):
		from = s.reserved
	}
	if from != nil {
		from.take(now, 1)
		return from, false, 0
	}
	if !stays || part <= 0 {
		return nil, false, time.Second // ask again within fairWindow to stay
	}
	return nil, false, time.Duration((1 - src.credit) / part * float64(time.Second))
}

// window counts the sources that stay: those seen in the current window of
// fairWindow and in the previous one.
type window struct {
	idx               int64 // the current window (Unix time ÷ fairWindow, on the Verifier's clock)
	stayCur, stayPrev int   // sources that stayed into the current window, and into the previous one
}

// count counts src as asking at now and returns the number of sources that
// stay (at least 1), and whether src is one of them: it asked in this window
// or the previous one before now.
func (w *window) count(now time.Time, src *source) (n int, stays bool) {
	idx := now.UnixNano() / int64(fairWindow)
	if idx != w.idx {
		if idx == w.idx+1 {
			w.stayPrev = w.stayCur
		} else {
			w.stayPrev = 0
		}
		w.idx, w.stayCur = idx, 0
	}
	stays = src.seen == idx || src.seen == idx-1
	if src.seen != idx {
		if src.seen == idx-1 {
			w.stayCur++
		}
		src.seen = idx
	}
	return max(1, w.stayCur, w.stayPrev), stays
}

// bucket is a token bucket with fractional tokens; its level may go below
// zero by what calls waiting for it have taken. Not safe for concurrent use:
// admission.mu guards it.
type bucket struct {
	rate, burst float64
	tokens      float64
	last        time.Time // when tokens was brought up to date; zero: never
}

func newBucket(rate, burst float64) *bucket { return &bucket{rate: rate, burst: burst, tokens: burst} }

// level brings the bucket up to now and returns its tokens.
func (b *bucket) level(now time.Time) float64 {
	if b.last.IsZero() {
		b.last = now
	}
	if d := now.Sub(b.last); d > 0 {
		b.tokens = min(b.burst, b.tokens+d.Seconds()*b.rate)
		b.last = now
	}
	return b.tokens
}

// take takes n tokens at now, whatever the level.
func (b *bucket) take(now time.Time, n float64) {
	b.level(now)
	b.tokens -= n
}

// give gives back n tokens that a refused call took.
func (b *bucket) give(n float64) { b.tokens = min(b.burst, b.tokens+n) }

// upper reports whether the bucket is more than half full at now: it keeps
// half its burst (rounded down) after one more token is taken.
func (b *bucket) upper(now time.Time) bool { return b.level(now) >= math.Floor(b.burst/2)+1 }

// due returns how long until the bucket holds a whole token.
func (b *bucket) due(now time.Time) time.Duration {
	l := b.level(now)
	if l >= 1 {
		return 0
	}
	if b.rate <= 0 {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration((1 - l) / b.rate * float64(time.Second))
}
