package verifier_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/verifier"
)

// TestPurgeRetires: after a purge (the shared cache's subscription was
// re-established), no token cached before it is served unverified: a token
// revoked at Clerk meanwhile, whose revocation this replica never heard of,
// is refused; a valid one is verified again, once, and cached afresh. Tokens
// Clerk refused stay refused without a call.
func TestPurgeRetires(t *testing.T) {
	e := newEnv(t)
	v := e.verifier()
	ctx := context.Background()
	kept, revoked := e.mint(e.caller.ID, clerkapi.CreateParams{}), e.mint(e.caller.ID, clerkapi.CreateParams{})
	junk := unknownToken(1)
	for _, tok := range []string{kept.Token, revoked.Token} {
		if _, err := v.Verify(ctx, tok, ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := v.Verify(ctx, junk, ""); !errors.Is(err, verifier.ErrInvalidToken) {
		t.Fatal(err)
	}
	if err := e.srv.RevokeToken(revoked.ID, "compromised"); err != nil { // no Invalidate: a missed broadcast
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, revoked.Token, ""); err != nil {
		t.Fatalf("before the purge the cached entry is served (the gap): got %v", err)
	}
	calls := e.verifyCalls()
	verifier.PurgeLocal(v)
	if _, err := v.Verify(ctx, revoked.Token, ""); !errors.Is(err, verifier.ErrInvalidToken) {
		t.Errorf("revoked token after the purge: got %v, want ErrInvalidToken", err)
	}
	for range 3 {
		if _, err := v.Verify(ctx, kept.Token, ""); err != nil {
			t.Errorf("valid token after the purge: %v", err)
		}
	}
	if _, err := v.Verify(ctx, junk, ""); !errors.Is(err, verifier.ErrInvalidToken) {
		t.Errorf("junk after the purge: got %v, want ErrInvalidToken", err)
	}
	if got := e.verifyCalls() - calls; got != 2 {
		t.Errorf("got %d calls after the purge, want 2 (each cached valid token once; the refusal stays)", got)
	}
	if st := v.Stats(); st.Refills != 2 {
		t.Errorf("got %d refills, want 2", st.Refills)
	}
}

// TestRefillsUncharged: after a purge, the tokens that were in use come back
// without being charged to their source, even one that has spent its
// budget, on the reserved share; a purge within PurgeInterval of that one
// still retires everything, and its refills are still charged to no source,
// but they get no reserved share (counted unreserved); the next interval
// grants it again.
func TestRefillsUncharged(t *testing.T) {
	const inUse = 5
	e := newEnv(t)
	v := e.verifier(verifier.WithLimits(verifier.Limits{SourceRate: 0.001, SourceBurst: inUse}))
	ctx := context.Background()
	nat := "192.0.2.10" // many callers behind one address
	toks := newTokens(e, inUse)
	// useAll uses every token once and returns the calls to Clerk it made
	// and how many were counted reserved.
	useAll := func(step string) (calls int64, reserved uint64) {
		t.Helper()
		calls, before := e.verifyCalls(), v.Stats().ReservedAdmissions
		for i, tok := range toks {
			if _, err := v.Verify(ctx, tok, nat); err != nil {
				t.Errorf("%s: token %d: %v", step, i, err)
			}
		}
		return e.verifyCalls() - calls, v.Stats().ReservedAdmissions - before
	}
	useAll("first use")
	if _, err := v.Verify(ctx, e.token(clerkapi.CreateParams{}), nat); !errors.Is(err, verifier.ErrRateLimited) {
		t.Fatalf("a new token: got %v, want ErrRateLimited (the budget is spent)", err)
	}
	for _, s := range []struct {
		name         string
		advance      time.Duration
		wantReserved uint64
	}{
		{"after a purge", 0, inUse},
		{"after a second purge within the interval", verifier.PurgeInterval - time.Second, 0},
		{"after a purge in the next interval", time.Second, inUse},
	} {
		e.clk.Advance(s.advance)
		verifier.PurgeLocal(v)
		calls, reserved := useAll(s.name)
		if calls != inUse || reserved != s.wantReserved {
			t.Errorf("%s: got %d calls, %d on the reserved share; want %d and %d", s.name, calls, reserved, inUse, s.wantReserved)
		}
	}
	if st := v.Stats(); st.Refills != 3*inUse || st.RateLimited != 1 {
		t.Errorf("got %d refills and %d rate limited, want %d and 1", st.Refills, st.RateLimited, 3*inUse)
	}
}

// TestRefillsWait: after a purge, more tokens in use than the overall budget's
// burst all come back: refills wait for the budget (at most Limits.Timeout)
// rather than being refused, and Clerk never sees more than the budget.
func TestRefillsWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const inUse, rate = 30, 10
		f := &fakeClerk{mode: "ok"}
		v := newFakeVerifier(t, f, verifier.WithLimits(verifier.Limits{CallRate: rate, CallBurst: rate, SourceRate: -1}))
		defer v.Close()
		ctx := context.Background()
		toks := make([]string, inUse)
		for i := range toks {
			toks[i] = unknownToken(i + 1)
			if _, err := v.Verify(ctx, toks[i], "192.0.2.10"); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Second / rate) // within the budget
		}
		time.Sleep(time.Second) // the buckets full again
		verifier.PurgeLocal(v)
		start := time.Now()
		var wg sync.WaitGroup
		for _, tok := range toks {
			wg.Go(func() {
				if _, err := v.Verify(ctx, tok, "192.0.2.10"); err != nil {
					t.Errorf("refill: got %v, want the token", err)
				}
			})
		}
		wg.Wait()
		// The budget's burst at once (refills may take any token when they
		// would otherwise wait), the other 20 at its rate.
		if got, want := time.Since(start), (inUse-rate)*time.Second/rate; got != want {
			t.Errorf("the refills took %v, want %v", got, want)
		}
		st := v.Stats()
		if st.Refills != inUse || st.ReservedRefusals != 0 || st.OverloadRefusals != 0 {
			t.Errorf("got %d refills, %d reserved refusals, %d overload refusals; want %d, 0, 0",
				st.Refills, st.ReservedRefusals, st.OverloadRefusals, inUse)
		}
	})
}
