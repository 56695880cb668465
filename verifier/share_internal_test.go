package verifier

import (
	"fmt"
	"testing"
	"time"
)

// TestFairPartOfRareAsker: a source that asks once a second gets its fair
// part of the unreserved share as surely as sources that ask twenty times as
// often, all at once, so that each token is gone the moment it comes: its
// part is dealt to it, not raced for. 50 sources at 20 misses/s and one at
// 1/s, asking between their bursts, share 20 calls/s: the rare one gets a
// call every 51 ÷ 20 ≈ 2.55 s, the first once it counts as staying (two
// windows) and has its part.
func TestFairPartOfRareAsker(t *testing.T) {
	const sources, rate = 50, 20.0
	l, err := Limits{CallRate: 2 * rate, CallBurst: 10, SourceRate: -1}.resolve() // unreserved: 20/s, burst 5
	if err != nil {
		t.Fatal(err)
	}
	a := newAdmission(l, time.Now)
	now := time.Unix(1_800_000_000, 0)
	ask := func(src string) bool {
		b, err := a.check(src, refillNone, now)
		if err != nil {
			t.Fatal(err)
		}
		end, err := a.begin(t.Context(), now, b)
		if err == nil {
			end(nil)
		}
		return err == nil
	}
	var got []time.Duration
	const seconds = 60
	for ms := range seconds * 1000 {
		now = now.Add(time.Millisecond)
		for i := range sources {
			if ms%50 == 0 {
				ask(fmt.Sprint("192.0.2.", i))
			}
		}
		if ms%1000 == 525 && ask("198.51.100.1") {
			got = append(got, time.Duration(ms)*time.Millisecond)
		}
	}
	if len(got) == 0 || got[0] > 2*fairWindow+3*time.Second {
		t.Errorf("the rare source's first call: at %v, want within %v", got, 2*fairWindow+3*time.Second)
	}
	// Its part from its third window on: (60 s − 4 s) × 20/51, 21.96.
	if len(got) < 20 || len(got) > 23 {
		t.Errorf("the rare source got %d calls in %d s (at %v), want 20 to 23", len(got), seconds, got)
	}
}
