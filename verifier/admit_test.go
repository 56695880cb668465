package verifier_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/verifier"
)

// goVerifyAll verifies each token in its own goroutine; the channel yields
// their errors as they return, one per token.
func goVerifyAll(ctx context.Context, v *verifier.Verifier, source string, tokens ...string) <-chan error {
	ch := make(chan error, len(tokens))
	for _, tok := range tokens {
		go func() {
			_, err := v.Verify(ctx, tok, source)
			ch <- err
		}()
	}
	return ch
}

// awaitHeld returns once n requests are held at gate, and fails the test if a
// Verify of res returns first: none may return while its call is held.
func awaitHeld(t *testing.T, gate *clerktest.Gate, n int, res <-chan error) {
	t.Helper()
	select {
	case <-gate.Arrived(n):
	case err := <-res:
		t.Fatalf("a Verify returned (%v) before %d calls were held at the emulator (%d were)", err, n, gate.Count())
	}
}

func newTokens(e *env, n int) []string {
	toks := make([]string, n)
	for i := range toks {
		toks[i] = e.token(clerkapi.CreateParams{})
	}
	return toks
}

// TestMaxInFlight: with the cap reached, a further miss is refused at once
// (no queue wait) with ErrUnavailable / ErrOverloaded and Retry-After 1 s,
// and costs no call; cache hits are served meanwhile; once the calls end,
// misses pass again.
func TestMaxInFlight(t *testing.T) {
	const limit = 3
	ctx := context.Background()
	e := newEnv(t)
	v := e.verifier(verifier.WithLimits(verifier.Limits{MaxInFlight: limit, QueueWait: -1}))
	hot := e.token(clerkapi.CreateParams{})
	if _, err := v.Verify(ctx, hot, ""); err != nil {
		t.Fatalf("warming the cache: %v", err)
	}
	gate := clerktest.NewGate()
	e.srv.InjectOn(clerktest.EndpointVerify, gate)
	t.Cleanup(gate.Release) // first: a failed test lets the held calls go

	held := goVerifyAll(ctx, v, "", newTokens(e, limit)...)
	awaitHeld(t, gate, limit, held)
	if got := v.Stats().InFlight; got != limit {
		t.Errorf("got %d calls in flight, want %d", got, limit)
	}
	extra := e.token(clerkapi.CreateParams{})
	_, err := v.Verify(ctx, extra, "")
	if !errors.Is(err, verifier.ErrOverloaded) || !errors.Is(err, verifier.ErrUnavailable) {
		t.Fatalf("miss beyond the cap: got %v, want ErrOverloaded (ErrUnavailable)", err)
	}
	if got := verifier.RetryAfter(err); got != time.Second {
		t.Errorf("got Retry-After %v, want 1s", got)
	}
	if _, err := v.Verify(ctx, hot, ""); err != nil {
		t.Errorf("cache hit while the cap is reached: %v", err)
	}
	// Every call is held until the release: Clerk sees exactly the cap at once.
	if got := gate.Count(); got != limit {
		t.Errorf("got %d calls at Clerk at once, want %d (the refused miss costs none)", got, limit)
	}
	gate.Release()
	for range limit {
		if err := <-held; err != nil {
			t.Errorf("held token: %v", err)
		}
	}
	if _, err := v.Verify(ctx, extra, ""); err != nil {
		t.Errorf("the refused token once the calls ended: %v", err)
	}
	st := v.Stats()
	if st.OverloadRefusals != 1 || st.Unavailable != 1 {
		t.Errorf("got %d overload refusals and %d unavailable, want 1 and 1", st.OverloadRefusals, st.Unavailable)
	}
	if st.InFlight != 0 {
		t.Errorf("got %d calls in flight after the end, want 0", st.InFlight)
	}
	if got, want := e.verifyCalls(), int64(1+limit+1); got != want {
		t.Errorf("got %d verify calls, want %d (warm-up, held, the refused token later)", got, want)
	}
}

// TestQueueWait: a miss beyond the cap waits for a slot, without a call, and
// gets one when a call ends. It runs in a synctest bubble, on fakeClerk: only
// there does the test know that the second miss is waiting (synctest.Wait),
// and can let the two calls go one at a time.
func TestQueueWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		holdFirst := make(chan struct{})
		f := &fakeClerk{mode: "ok", hold: holdFirst}
		v := newFakeVerifier(t, f, verifier.WithLimits(verifier.Limits{MaxInFlight: 1, QueueWait: time.Hour}))
		defer v.Close()
		first := goVerifyAll(ctx, v, "", unknownToken(1))
		synctest.Wait() // the first call is held
		second := goVerifyAll(ctx, v, "", unknownToken(2))
		synctest.Wait() // the second miss waits for the slot
		if got, st := f.count(), v.Stats(); got != 1 || st.InFlight != 1 {
			t.Errorf("got %d calls to Clerk and %d in flight while the second miss waits, want 1 and 1", got, st.InFlight)
		}
		select {
		case err := <-second:
			t.Fatalf("the second miss returned (%v) while the slot was taken, want it waiting", err)
		default:
		}

		holdSecond := make(chan struct{})
		f.set("ok", holdSecond) // the second call is held on its own
		close(holdFirst)        // the first call ends; the second takes its slot
		if err := <-first; err != nil {
			t.Errorf("first: got %v, want the token verified", err)
		}
		synctest.Wait()
		if got, st := f.count(), v.Stats(); got != 2 || st.InFlight != 1 {
			t.Errorf("got %d calls to Clerk and %d in flight once the first ended, want 2 and 1", got, st.InFlight)
		}
		close(holdSecond)
		if err := <-second; err != nil {
			t.Errorf("second: got %v, want the token verified", err)
		}
		if st := v.Stats(); st.OverloadRefusals != 0 || st.InFlight != 0 {
			t.Errorf("got %d overload refusals and %d calls in flight, want 0 and 0", st.OverloadRefusals, st.InFlight)
		}
	})
}

// TestSourceBudget: each source has its own bucket; a source over it gets
// ErrRateLimited (not ErrUnavailable) with Retry-After and costs no call,
// another source is unaffected, hits are never charged, and the bucket
// refills on the Verifier's clock.
func TestSourceBudget(t *testing.T) {
	e := newEnv(t)
	v := e.verifier(verifier.WithLimits(verifier.Limits{SourceRate: 1, SourceBurst: 2, CallRate: -1}))
	ctx, a, b := context.Background(), "192.0.2.1", "192.0.2.2"
	valid := e.token(clerkapi.CreateParams{})
	if _, err := v.Verify(ctx, valid, a); err != nil {
		t.Fatalf("valid token: %v", err)
	}
	if _, err := v.Verify(ctx, unknownToken(1), a); !errors.Is(err, verifier.ErrInvalidToken) {
		t.Fatalf("second miss of a: got %v, want ErrInvalidToken", err)
	}
	_, err := v.Verify(ctx, unknownToken(2), a)
	if !errors.Is(err, verifier.ErrRateLimited) || errors.Is(err, verifier.ErrUnavailable) {
		t.Fatalf("third miss of a: got %v, want ErrRateLimited only", err)
	}
	if got := verifier.RetryAfter(err); got != time.Second {
		t.Errorf("got Retry-After %v, want 1s", got)
	}
	if got := e.verifyCalls(); got != 2 {
		t.Errorf("got %d verify calls, want 2 (the refused miss costs none)", got)
	}
	for range 100 {
		if _, err := v.Verify(ctx, valid, a); err != nil {
			t.Fatalf("cache hit of a source over its budget: %v", err)
		}
	}
	if _, err := v.Verify(ctx, unknownToken(3), b); !errors.Is(err, verifier.ErrInvalidToken) {
		t.Errorf("another source: got %v, want ErrInvalidToken from Clerk", err)
	}
	if _, err := v.Verify(context.Background(), unknownToken(4), ""); !errors.Is(err, verifier.ErrInvalidToken) {
		t.Errorf("no source: got %v, want ErrInvalidToken from Clerk (charged to no source)", err)
	}
	e.clk.Advance(time.Second)
	if _, err := v.Verify(ctx, unknownToken(5), a); !errors.Is(err, verifier.ErrInvalidToken) {
		t.Errorf("a, a second later: got %v, want ErrInvalidToken from Clerk", err)
	}
	if st := v.Stats(); st.RateLimited != 1 || st.Unavailable != 0 {
		t.Errorf("got RateLimited %d, Unavailable %d, want 1 and 0", st.RateLimited, st.Unavailable)
	}
}

// TestSourceBudgetChargesFlights: many concurrent requests of one source for
// one new token are one flight, charged once: none is refused, even with a
// budget of one. (A request that comes after the flight finds its answer in
// the cache, or in the re-check of a flight of its own, uncharged.)
func TestSourceBudgetChargesFlights(t *testing.T) {
	const n = 100
	e := newEnv(t)
	v := e.verifier(verifier.WithLimits(verifier.Limits{SourceRate: 1, SourceBurst: 1}))
	gate := clerktest.NewGate()
	e.srv.InjectOn(clerktest.EndpointVerify, gate)
	t.Cleanup(gate.Release)
	ctx := context.Background()
	tok := e.token(clerkapi.CreateParams{})
	toks := make([]string, n)
	for i := range toks {
		toks[i] = tok
	}
	res := goVerifyAll(ctx, v, "192.0.2.1", toks...)
	awaitHeld(t, gate, 1, res)
	gate.Release()
	for i := range n {
		if err := <-res; err != nil {
			t.Errorf("request %d: %v", i, err)
		}
	}
	if got := e.verifyCalls(); got != 1 {
		t.Errorf("got %d verify calls, want 1", got)
	}
}

// TestSourceBudgetBounded: the budgets of at most WithMaxSources sources are
// kept; a forgotten source starts again with a full bucket.
func TestSourceBudgetBounded(t *testing.T) {
	e := newEnv(t)
	v := e.verifier(verifier.WithLimits(verifier.Limits{SourceRate: 1, SourceBurst: 1, MaxSources: 2, CallRate: -1}))
	ctx := context.Background()
	for i, s := range []string{"a", "b", "c"} {
		if _, err := v.Verify(ctx, unknownToken(10+i), s); !errors.Is(err, verifier.ErrInvalidToken) {
			t.Fatalf("first miss of %s: %v", s, err)
		}
	}
	if _, err := v.Verify(ctx, unknownToken(20), "c"); !errors.Is(err, verifier.ErrRateLimited) {
		t.Errorf("c again: got %v, want ErrRateLimited", err)
	}
	if _, err := v.Verify(ctx, unknownToken(21), "a"); !errors.Is(err, verifier.ErrInvalidToken) {
		t.Errorf("a, forgotten: got %v, want a full bucket again", err)
	}
}

// TestCallBudget: the overall budget bounds every source together; beyond it
// a miss is ErrUnavailable / ErrOverloaded with Retry-After, without a call.
// Without a reserved share (see share_test.go for the shares), new sources
// get the upper half of its burst first come, first served, and then their
// turn in line: Retry-After says when to ask again.
func TestCallBudget(t *testing.T) {
	e := newEnv(t)
	v := e.verifier(verifier.WithLimits(verifier.Limits{CallRate: 1, CallBurst: 4, ReservedShare: -1}))
	for i := range 2 {
		if _, err := v.Verify(context.Background(), unknownToken(i+1), string(rune('a'+i))); !errors.Is(err, verifier.ErrInvalidToken) {
			t.Fatalf("miss %d: %v", i, err)
		}
	}
	_, err := v.Verify(context.Background(), unknownToken(3), "z")
	if !errors.Is(err, verifier.ErrOverloaded) || !errors.Is(err, verifier.ErrUnavailable) {
		t.Fatalf("third miss: got %v, want ErrOverloaded", err)
	}
	if got, want := verifier.RetryAfter(err), 2*time.Second; got != want {
		t.Errorf("got Retry-After %v, want %v (ask again within the window to take a place in line)", got, want)
	}
	if got := e.verifyCalls(); got != 2 {
		t.Errorf("got %d verify calls, want 2", got)
	}
	e.clk.Advance(time.Second)
	if _, err := v.Verify(context.Background(), unknownToken(3), "z"); !errors.Is(err, verifier.ErrInvalidToken) {
		t.Errorf("a second later: got %v, want ErrInvalidToken", err)
	}
}

// TestAdmissionSkipsLocalJWTs: JWTs verified locally cost no call to the
// verify endpoint, so no budget refuses them.
func TestAdmissionSkipsLocalJWTs(t *testing.T) {
	e := newEnv(t)
	v := e.verifier(verifier.WithLimits(verifier.Limits{SourceRate: 1, SourceBurst: 1, CallRate: 1, CallBurst: 1}))
	for i := range 5 {
		if _, err := v.Verify(context.Background(), e.jwt(clerkapi.CreateParams{}), "192.0.2.9"); err != nil {
			t.Fatalf("JWT %d: %v", i, err)
		}
	}
}
