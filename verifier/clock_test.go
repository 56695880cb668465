package verifier

import (
	"strings"
	"testing"
	"time"
)

func TestClockFast(t *testing.T) {
	c := newClock(time.Now, false)
	before := time.Now()
	got := c.fast()
	after := time.Now()
	if got.Before(before) || got.After(after) {
		t.Errorf("fast() = %v, want between %v and %v", got, before, after)
	}
	if !strings.Contains(got.String(), "m=+") {
		t.Errorf("fast() = %v, want a monotonic reading", got)
	}

	fixed := time.Date(2026, 5, 12, 0, 0, 0, 0, time.UTC)
	injected := newClock(func() time.Time { return fixed }, true)
	if got := injected.fast(); !got.Equal(fixed) {
		t.Errorf("fast() with an injected clock = %v, want %v", got, fixed)
	}
}

func TestDeadline(t *testing.T) {
	now := time.Now()
	wall := now.Add(time.Hour).Round(0) // as from Clerk: no monotonic reading
	d := deadline(wall, now)
	if got := d.Sub(now); got != time.Hour {
		t.Errorf("deadline − now = %v, want 1h", got)
	}
	if !strings.Contains(d.String(), "m=+") {
		t.Errorf("deadline = %v, want a monotonic reading", d)
	}
	if !deadline(time.Time{}, now).IsZero() {
		t.Error("deadline(zero) is not zero, want zero (never expires)")
	}
	c := newClock(time.Now, false)
	if r := (result{expires: d}); !r.valid(c.fast()) {
		t.Error("a token expiring in an hour is not valid now")
	}
	if r := (result{expires: deadline(time.Now().Add(-time.Second).Round(0), time.Now())}); r.valid(c.fast()) {
		t.Error("a token that expired a second ago is valid")
	}
}
