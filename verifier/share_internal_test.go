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
// call every round, 51 ÷ 20 ≈ 2.55 s, spent at its next request (so every 3
// s), the first once it counts as staying (two windows) and its turn came.
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
	// Its part from its third window on: (60 s − 4 s) × 20/51 = 21.96,
	// rounded to its requests: 56 ÷ 3 = 18.7.
	if len(got) < 18 || len(got) > 23 {
		t.Errorf("the rare source got %d calls in %d s (at %v), want 18 to 23", len(got), seconds, got)
	}
}

// TestBudgetHoldsUnderFlood: however the calls are dealt, Clerk never sees
// more than the overall budget allows in any 10 s (its burst and 10 s of its
// rate), here under 200 sources that each send 10 misses a second all at the
// same instants, while a source in good standing gets every new token
// through.
func TestBudgetHoldsUnderFlood(t *testing.T) {
	const rate, burst, seconds = 8, 10, 120
	l, err := Limits{CallRate: rate, CallBurst: burst}.resolve()
	if err != nil {
		t.Fatal(err)
	}
	a := newAdmission(l, time.Now)
	t0 := time.Unix(1_800_000_000, 0)
	now := t0
	a.settle("198.51.100.7", nil, now)
	var admitted []time.Duration
	ask := func(src string) bool {
		b, err := a.check(src, refillNone, now)
		if err != nil {
			t.Fatal(err)
		}
		end, err := a.begin(t.Context(), now, b)
		if err != nil {
			return false
		}
		end(nil)
		admitted = append(admitted, now.Sub(t0))
		return true
	}
	legit := 0
	for ms := range seconds * 1000 {
		now = now.Add(time.Millisecond)
		if ms%100 == 0 {
			for i := range 200 {
				ask(fmt.Sprint("203.0.113.", i))
			}
		}
		if ms%1000 == 50 && ask("198.51.100.7") {
			legit++
		}
	}
	most := 0
	for i := range admitted {
		j := i
		for j < len(admitted) && admitted[j]-admitted[i] < 10*time.Second {
			j++
		}
		most = max(most, j-i)
	}
	if most > burst+10*rate {
		t.Errorf("got %d calls in some 10 s, want at most %d", most, burst+10*rate)
	}
	if legit != seconds {
		t.Errorf("the source in good standing got %d of %d new tokens through, want all", legit, seconds)
	}
}

// TestLineBounded: the unreserved share's line holds at most MaxSources
// sources, whatever the number of addresses that stay, and a source that
// stopped asking is passed over when its turn comes instead of being dealt a
// ticket it would not use.
func TestLineBounded(t *testing.T) {
	s := newShares(1, 2, 0, 3) // no reservation: one bucket of 2, 1 a second
	now := time.Unix(1_800_000_000, 0)
	srcs := make([]*source, 10)
	for i := range srcs {
		srcs[i] = newSource(nil)
	}
	take := func(src *source) bool {
		from, fair, _ := s.takeOther(now, src)
		return from != nil || fair
	}
	// The burst goes first come, first served; then 10 sources ask twice,
	// 100 ms apart: they stay, and three of them get in line.
	take(srcs[0])
	take(srcs[1])
	for range 2 {
		for _, src := range srcs {
			take(src)
		}
		now = now.Add(100 * time.Millisecond)
	}
	if got := len(s.line.q); got != 3 {
		t.Fatalf("got %d sources in line, want 3 (its bound)", got)
	}
	// They go away. When the next token comes, the three are passed over
	// (no ticket held for them) and the one who asks gets it.
	now = now.Add(2 * fairWindow)
	if !take(newSource(nil)) {
		t.Error("a source asking once the others have gone: refused, want the token")
	}
	if len(s.line.q) != 0 || s.open.held != 0 {
		t.Errorf("got %d sources in line and %v tickets held, want 0 and 0 (the sources gone passed over)", len(s.line.q), s.open.held)
	}
}
