package verifier

import "time"

// clock reads the Verifier's time. With an injected clock (WithClock) every
// read calls it. With the default, time.Now, a cache hit reads only the
// monotonic clock: fast returns base + time.Since(base), which carries the same
// monotonic reading time.Now would, for one clock read instead of two (wall and
// monotonic). Every expiry a hit compares against is stored with a monotonic
// reading (computed from a full time.Now when the entry is stored), so those
// comparisons use the monotonic clock alone, as time.Time comparisons do, and
// are immune to wall-clock steps.
type clock struct {
	now  func() time.Time // a full reading: the injected clock or time.Now
	base time.Time        // non-zero iff now is time.Now
}

func newClock(now func() time.Time, injected bool) clock {
	if injected {
		return clock{now: now}
	}
	return clock{now: time.Now, base: time.Now()}
}

// fast returns the current time for comparisons with stored expiries.
func (c *clock) fast() time.Time {
	if c.base.IsZero() {
		return c.now()
	}
	return c.base.Add(time.Since(c.base))
}

// deadline returns wall, a time from Clerk, as an instant comparable with
// fast's readings: now (a full reading) shifted by wall − now. The zero time
// stays zero ("never").
func deadline(wall, now time.Time) time.Time {
	if wall.IsZero() {
		return time.Time{}
	}
	return now.Add(wall.Sub(now))
}
