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
//   - the unreserved share, the rest, dealt out in turn to the sources that
//     are not in good standing.
//
// The reserved share serves only the calls entitled to it, except its upper
// half, which goes to anybody, first come, first served: what nobody in good
// standing needs is not wasted (a cold start, before any source is in good
// standing, still has it), and a flood, however many addresses it comes
// from, leaves the calls in good standing the reserved share's whole rate and
// half its burst. A call entitled to the reserved share that finds it empty
// takes the unreserved share's upper half; one that may wait (a refill, a miss
// of a source in good standing: work that was worth doing a moment ago) takes
// otherwise the first token due in either share, up to Limits.Timeout from
// now, rather than be refused — after a Redis restart the tokens in use so
// come back at the budget's whole rate.
//
// The unreserved share is dealt out round-robin. A source that stays — it
// asked for the share in two consecutive windows of fairWindow — takes its
// place at the end of the line; as tokens come, the one at the head of the
// line gets one (a ticket: the token is taken out of the bucket and held for
// it until it next asks, at most ticketTTL) and leaves the line. Each source
// so gets one call per round, and a round takes (sources in line) ÷ (the
// share's rate): the share's rate divided equally among the sources that want
// it, whether a source asks once a second or a thousand times — its ticket
// waits for it, where a race for the bucket's last token would go to whoever
// asks most. When nobody is in line (or the tickets held reach half the
// share's burst), the share fills up and its upper half goes first come,
// first served, to anybody. An address seen once (a flood that rotates
// them), or again only after a gap, never joins the line: it would hold a
// ticket it never uses. It competes for the upper halves only.
//
// Why a line of tickets and not a queue of misses (deficit round-robin over
// waiting requests): a miss refused at once costs a flood nothing to send
// again, while a queued one holds a goroutine and a connection for up to a
// whole round. What a source that is new during a flood gets: a place in
// line once it stays (after at most two windows), and its call one round
// later, about (sources in line) ÷ (the share's rate); if Clerk accepts its
// token, it is then in good standing.
//
// The buckets never hold more than their burst, tickets included, so Clerk
// never sees more than the burst plus the rate in any interval.
//
// Not safe for concurrent use: admission.mu guards it.
type shares struct {
	reserved *bucket // nil: no reservation (Limits.ReservedShare off)
	open     *bucket // the unreserved share
	window   window
	line     line
	maxHeld  float64 // tickets held at most: half the unreserved share's burst (at least 1)
	maxLine  int     // sources in line at most (Limits.MaxSources)
}

// fairWindow is how long a source may go without asking and still be
// counted as staying.
const fairWindow = 2 * time.Second

// ticketTTL is how long a ticket waits for its source; then its token goes
// back to the bucket.
const ticketTTL = fairWindow

// newShares cuts the budget of rate r and burst b, the fraction share of each
// reserved (0: none), with at most maxLine sources in line. Each share has a
// burst of at least 1.
func newShares(r float64, b int, share float64, maxLine int) *shares {
	rb := 0
	if share > 0 {
		rb = max(1, min(b-1, int(share*float64(b)+0.5)))
	}
	ob := float64(max(1, b-rb))
	s := &shares{open: newBucket(r*(1-share), ob), maxHeld: max(1, math.Floor(ob/2)), maxLine: maxLine}
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
// its ticket (fair true; from nil: the token left the bucket when it was
// dealt), or one of either share's upper half. Neither: fair false, from
// nil, and retry says when its turn should come.
func (s *shares) takeOther(now time.Time, src *source) (from *bucket, fair bool, retry time.Duration) {
	stays := s.window.count(now, src)
	s.expire(now)
	if !src.ticket && stays && !src.queued {
		s.line.push(src, s.maxLine)
	}
	s.deal(now)
	if src.ticket {
		src.ticket = false
		s.open.held--
		if !src.queued { // its place for the next round
			s.line.push(src, s.maxLine)
		}
		return nil, true, 0
	}
	switch {
	case s.open.upper(now):
		from = s.open
	case s.reserved != nil && s.reserved.upper(now):
		from = s.reserved
	}
	if from != nil {
		from.take(now, 1)
		return from, false, 0
	}
	if !src.queued || s.open.rate <= 0 {
		return nil, false, fairWindow // ask again within the window to stay
	}
	ahead := float64(src.seq-s.line.dealt) - s.open.level(now)
	return nil, false, time.Duration(max(1, ahead) / s.open.rate * float64(time.Second))
}

// giveTicket gives src back the ticket it spent on a call that was then
// refused (no slot, the breaker).
func (s *shares) giveTicket(src *source, now time.Time) {
	src.ticket, src.ticketAt = true, now
	s.open.held++
	s.line.holders = append(s.line.holders, holder{src, src.dealt})
}

// deal gives the unreserved share's whole tokens, as long as it has some and
// fewer than maxHeld tickets are held, to the sources at the head of the
// line, in turn.
func (s *shares) deal(now time.Time) {
	for s.open.held < s.maxHeld && s.open.level(now) >= 1 {
		src := s.line.pop()
		if src == nil {
			return
		}
		if !s.window.recent(now, src) {
			continue // gone: it would not use its ticket
		}
		s.open.take(now, 1)
		s.open.held++
		src.ticket, src.ticketAt = true, now
		s.line.holders = append(s.line.holders, holder{src, src.dealt})
	}
}

// expire gives the tokens of the tickets held longer than ticketTTL back to
// the bucket, and forgets the tickets spent.
func (s *shares) expire(now time.Time) {
	h := s.line.holders
	i := 0
	for ; i < len(h); i++ {
		src := h[i].src
		if !src.ticket || src.dealt != h[i].dealt { // spent (and maybe dealt again since)
			continue
		}
		if now.Sub(src.ticketAt) < ticketTTL {
			break
		}
		src.ticket = false
		s.open.held--
		s.open.give(1)
	}
	s.line.holders = h[i:]
}

// line is the round-robin of the unreserved share: the sources waiting for
// a ticket, each at most once, in the order they came (a source that stops
// asking is passed over when its turn comes), and the tickets held. Its
// memory is bounded by Limits.MaxSources, and by the tickets dealt in a
// ticketTTL.
type line struct {
	q       []*source // waiting, the head first
	seq     uint64    // sources ever put in line
	dealt   uint64    // … and dealt a ticket
	holders []holder  // tickets dealt, the oldest first (some spent since)
}

// holder is a ticket dealt: to src, as its dealt-th.
type holder struct {
	src   *source
	dealt uint64
}

// push puts src at the end of the line, unless the line already holds max
// sources: then src competes for the upper halves only.
func (l *line) push(src *source, max int) {
	if len(l.q) >= max {
		return
	}
	l.seq++
	src.queued, src.seq = true, l.seq
	l.q = append(l.q, src)
}

// pop takes the head of the line, or returns nil.
func (l *line) pop() *source {
	if len(l.q) == 0 {
		return nil
	}
	src := l.q[0]
	l.q[0] = nil
	l.q = l.q[1:]
	if len(l.q) == 0 {
		l.q = l.q[:0:0] // let the array go
	}
	l.dealt = src.seq
	src.queued = false
	src.dealt++
	return src
}

// window tells the sources that stay: those that asked in the current window
// of fairWindow or in the previous one.
type window struct{}

// count notes that src asks at now and reports whether it stays: it asked
// before, in this window or the previous one.
func (w window) count(now time.Time, src *source) (stays bool) {
	stays = w.recent(now, src)
	src.seen = now.UnixNano() / int64(fairWindow)
	return stays
}

// recent reports whether src asked in the window of now or the previous one.
func (window) recent(now time.Time, src *source) bool {
	idx := now.UnixNano() / int64(fairWindow)
	return src.seen == idx || src.seen == idx-1
}

// bucket is a token bucket with fractional tokens; its level may go below
// zero by what calls waiting for it have taken. held counts the tokens taken
// out as tickets, which count against its burst until they are spent. Not
// safe for concurrent use: admission.mu guards it.
type bucket struct {
	rate, burst float64
	tokens      float64
	held        float64
	last        time.Time // when tokens was brought up to date; zero: never
}

func newBucket(rate, burst float64) *bucket { return &bucket{rate: rate, burst: burst, tokens: burst} }

// level brings the bucket up to now and returns its tokens.
func (b *bucket) level(now time.Time) float64 {
	if b.last.IsZero() {
		b.last = now
	}
	if d := now.Sub(b.last); d > 0 {
		b.tokens = max(b.tokens, min(b.burst-b.held, b.tokens+d.Seconds()*b.rate))
		b.last = now
	}
	return b.tokens
}

// take takes n tokens at now, whatever the level.
func (b *bucket) take(now time.Time, n float64) {
	b.level(now)
	b.tokens -= n
}

// give gives back n tokens that a refused call, or a ticket unused, took.
func (b *bucket) give(n float64) { b.tokens = min(b.burst-b.held, b.tokens+n) }

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
