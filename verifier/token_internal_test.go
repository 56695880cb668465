package verifier

import (
	"strings"
	"testing"
	"time"
)

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
	if r := (result{expires: d}); !r.valid(time.Now()) {
		t.Error("a token expiring in an hour is not valid now")
	}
	if r := (result{expires: deadline(time.Now().Add(-time.Second).Round(0), time.Now())}); r.valid(time.Now()) {
		t.Error("a token that expired a second ago is valid")
	}
}
