package verifier_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/verifier"
)

// admitted counts the misses that reached Clerk: junk comes back refused by
// Clerk (ErrInvalidToken), a valid token verified; a miss refused by admission
// is ErrUnavailable or ErrRateLimited.
type admitted struct{ n, refused int }

func (a *admitted) junk(t *testing.T, err error) {
	t.Helper()
	switch {
	case errors.Is(err, verifier.ErrInvalidToken):
		a.n++
	case errors.Is(err, verifier.ErrUnavailable), errors.Is(err, verifier.ErrRateLimited):
		a.refused++
	default:
		t.Fatalf("junk: got %v, want Clerk's refusal or admission's", err)
	}
}

// junkSource names the i-th source of a flood.
func junkSource(i int) string { return fmt.Sprintf("203.0.%d.%d", i/250, i%250+1) }

// TestReservedShareHoldsAgainstFlood: a source with a valid history keeps
// every new token verified while 50 sources with none flood junk at 10
// requests/s each (5 times the budget); Clerk sees no more than the overall
// budget, and the junk no more than the unreserved share and what the
// reserved one has left over.
func TestReservedShareHoldsAgainstFlood(t *testing.T) {
	const floodSources, seconds, rate, burst = 50, 60, 4, 8
	e := newEnv(t)
	// No per-source budget: the shares alone hold.
	v := e.verifier(verifier.WithLimits(verifier.Limits{CallRate: rate, CallBurst: burst, SourceRate: -1}))
	ctx := context.Background()
	legit := "198.51.100.7"
	if _, err := v.Verify(ctx, e.token(clerkapi.CreateParams{}), legit); err != nil {
		t.Fatalf("the valid history: %v", err)
	}
	calls0 := e.verifyCalls()
	var junk admitted
	accepted, n := 0, 0
	for step := range seconds * 10 {
		e.clk.Advance(100 * time.Millisecond)
		for i := range floodSources {
			n++
			_, err := v.Verify(ctx, unknownToken(n), junkSource(i))
			junk.junk(t, err)
		}
		if step%10 == 0 {
			if _, err := v.Verify(ctx, e.token(clerkapi.CreateParams{}), legit); err != nil {
				t.Errorf("second %d: the legitimate source's new token: %v", step/10, err)
			} else {
				accepted++
			}
		}
	}
	if accepted != seconds {
		t.Errorf("got %d of %d new tokens of the source in good standing accepted, want all", accepted, seconds)
	}
	calls, budget := e.verifyCalls()-calls0, int64(burst+rate*seconds)
	if calls > budget {
		t.Errorf("got %d calls to Clerk in %d s, want at most the budget, %d", calls, seconds, budget)
	}
	// The junk gets the unreserved share (2/s, burst 4) and what the legitimate
	// source leaves of the reserved one's rate (2/s − 1/s): about 3/s.
	if low, high := 2*seconds, 3*seconds+burst; junk.n < low || junk.n > high {
		t.Errorf("the flood got %d calls, want between %d and %d", junk.n, low, high)
	}
	st := v.Stats()
	if st.ReservedRefusals != 0 || st.ReservedAdmissions < seconds {
		t.Errorf("got %d reserved admissions and %d reserved refusals, want at least %d and 0",
			st.ReservedAdmissions, st.ReservedRefusals, seconds)
	}
	if st.UnreservedAdmissions != uint64(junk.n+1) || st.UnreservedRefusals != uint64(junk.refused) {
		t.Errorf("got %d unreserved admissions and %d refusals, want %d (the flood and the first token) and %d",
			st.UnreservedAdmissions, st.UnreservedRefusals, junk.n+1, junk.refused)
	}
	if st.GoodStanding != 1 {
		t.Errorf("got %d sources in good standing, want 1", st.GoodStanding)
	}
}

// TestFairPart: among sources outside good standing, each gets its fair
// part of the unreserved share: with five sources all asking for more than
// the share, each gets about a fifth, whether it asks 5 or 50 times as much;
// sources that ask for less than their part get all of it, and the greedy one
// the rest.
func TestFairPart(t *testing.T) {
	const seconds, rate = 60, 10
	tests := []struct {
		name     string
		every    []int // each source's period, in 10 ms steps: source 0 is the greedy one
		wantLow  []int // calls each source gets in 60 s, at least
		wantHigh []int // … at most
	}{
		{
			name:  "all over their part",
			every: []int{1, 5, 5, 5, 5}, // 100/s and four at 20/s; a fair part is 2/s
			// 120 each (± 15 %: when each asks within a step moves a few
			// calls); the upper half of the burst (5) goes to whoever comes first.
			wantLow:  []int{102, 102, 102, 102, 102},
			wantHigh: []int{138, 138, 138, 138, 138},
		},
		{
			name:  "some under their part",
			every: []int{1, 100, 100, 100, 100}, // 100/s and four at 1/s
			// The four get all they ask for (60 each) once they count as
			// staying (from their second window: the greedy one takes the
			// upper half before), the greedy one the rest.
			wantLow:  []int{rate*seconds - 4*60, 56, 56, 56, 56},
			wantHigh: []int{rate*seconds + rate - 4*56, 60, 60, 60, 60},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			v := e.verifier(verifier.WithLimits(verifier.Limits{CallRate: rate, CallBurst: rate, ReservedShare: -1, SourceRate: -1}))
			ctx := context.Background()
			got := make([]admitted, len(tt.every))
			n := 0
			for step := range seconds * 100 {
				e.clk.Advance(10 * time.Millisecond)
				for i, every := range tt.every {
					if step%every != i%every {
						continue
					}
					n++
					_, err := v.Verify(ctx, unknownToken(n), junkSource(i))
					got[i].junk(t, err)
				}
			}
			t.Logf("calls per source: %v", got)
			for i := range got {
				if got[i].n < tt.wantLow[i] || got[i].n > tt.wantHigh[i] {
					t.Errorf("source %d (asking every %d ms): got %d calls in %d s, want %d to %d",
						i, 10*tt.every[i], got[i].n, seconds, tt.wantLow[i], tt.wantHigh[i])
				}
			}
		})
	}
}

// TestRotatingFlood: a flood that sends each request from a new address (100
// a second) competes only for the upper halves of the buckets: a source in
// good standing keeps every new token, and a source outside good standing
// that stays keeps its fair part (here all it asks for).
func TestRotatingFlood(t *testing.T) {
	const seconds = 60
	e := newEnv(t)
	v := e.verifier(verifier.WithLimits(verifier.Limits{CallRate: 10, CallBurst: 10, SourceRate: -1}))
	ctx := context.Background()
	legit, steady := "198.51.100.7", "198.51.100.8"
	if _, err := v.Verify(ctx, e.token(clerkapi.CreateParams{}), legit); err != nil {
		t.Fatal(err)
	}
	calls0 := e.verifyCalls()
	var rotating, stay admitted
	accepted, n := 0, 0
	for step := range seconds * 10 {
		e.clk.Advance(100 * time.Millisecond)
		for range 10 {
			n++
			_, err := v.Verify(ctx, unknownToken(n), junkSource(n%60000))
			rotating.junk(t, err)
		}
		if step%10 == 5 {
			n++
			_, err := v.Verify(ctx, unknownToken(n), steady)
			stay.junk(t, err)
			if _, err := v.Verify(ctx, e.token(clerkapi.CreateParams{}), legit); err == nil {
				accepted++
			}
		}
	}
	if accepted != seconds {
		t.Errorf("source in good standing: got %d of %d new tokens accepted, want all", accepted, seconds)
	}
	if stay.n < seconds-1 {
		t.Errorf("source that stays: got %d of %d misses admitted, want at least %d", stay.n, seconds, seconds-1)
	}
	if calls := e.verifyCalls() - calls0; calls > 10+10*seconds {
		t.Errorf("got %d calls to Clerk, want at most the budget, %d", calls, 10+10*seconds)
	}
	t.Logf("rotating flood: %d of %d admitted", rotating.n, rotating.n+rotating.refused)
}

// TestFakedStanding: a source that presents one valid token and then junk
// gets, per valid token, its junk on the reserved share only until Clerk's
// first refusal comes back — at most its per-source burst of concurrent
// misses — and then its fair part like any source outside good standing.
func TestFakedStanding(t *testing.T) {
	e := newEnv(t)
	v := e.verifier(verifier.WithLimits(verifier.Limits{CallRate: 10, CallBurst: 10}))
	ctx := context.Background()
	attacker := "198.51.100.66"
	if _, err := v.Verify(ctx, e.token(clerkapi.CreateParams{}), attacker); err != nil {
		t.Fatal(err)
	}
	before := v.Stats()
	if before.GoodStanding != 1 {
		t.Fatalf("got %d sources in good standing after a valid token, want 1", before.GoodStanding)
	}
	for i := range 20 {
		e.clk.Advance(200 * time.Millisecond)
		_, _ = v.Verify(ctx, unknownToken(i+1), attacker)
	}
	st := v.Stats()
	if got := st.ReservedAdmissions - before.ReservedAdmissions; got != 1 {
		t.Errorf("got %d junk calls on the reserved share, want 1 (until the first refusal)", got)
	}
	if st.GoodStanding != 0 {
		t.Errorf("got %d sources in good standing after junk, want 0", st.GoodStanding)
	}
	if got := st.ReservedRefusals + st.ReservedAdmissions - before.ReservedAdmissions; got != 1 {
		t.Errorf("got %d junk misses in the reserved class, want 1", got)
	}
}

// TestFakedStandingBurst: junk sent all at once, before Clerk's first refusal
// comes back, is bounded by the source's own budget: its burst on the
// reserved share, the rest refused without a call.
func TestFakedStandingBurst(t *testing.T) {
	const burst, sent = 3, 10
	e := newEnv(t)
	v := e.verifier(verifier.WithLimits(verifier.Limits{SourceRate: 1, SourceBurst: burst + 1, CallRate: 100, CallBurst: 100}))
	ctx := context.Background()
	attacker := "198.51.100.66"
	if _, err := v.Verify(ctx, e.token(clerkapi.CreateParams{}), attacker); err != nil { // spends 1 of the burst
		t.Fatal(err)
	}
	gate := clerktest.NewGate()
	e.srv.InjectOn(clerktest.EndpointVerify, gate)
	t.Cleanup(gate.Release)
	junk := make([]string, sent)
	for i := range junk {
		junk[i] = unknownToken(i + 1)
	}
	res := goVerifyAll(ctx, v, attacker, junk...)
	var got admitted
	for range sent - burst { // the refused come back at once, while the others are held
		got.junk(t, <-res)
	}
	awaitHeld(t, gate, burst, res)
	gate.Release()
	for range burst {
		got.junk(t, <-res)
	}
	if got.n != burst || got.refused != sent-burst {
		t.Errorf("got %d junk calls and %d refusals, want %d and %d", got.n, got.refused, burst, sent-burst)
	}
	st := v.Stats()
	if st.ReservedAdmissions != burst || st.RateLimited != sent-burst || st.GoodStanding != 0 {
		t.Errorf("got %d reserved admissions, %d rate limited, %d in good standing; want %d, %d, 0",
			st.ReservedAdmissions, st.RateLimited, st.GoodStanding, burst, sent-burst)
	}
}
