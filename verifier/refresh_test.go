package verifier_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/verifier"
)

// TestRefreshAhead: a hit in the last fifth of the TTL starts one background
// refresh and is answered from the cache; the refreshed entry lives a new
// TTL; a token in steady use for 3 × TTL never misses.
func TestRefreshAhead(t *testing.T) {
	const ttl = time.Minute
	ctx := context.Background()
	e := newEnv(t)
	v := e.verifier(verifier.WithTTL(ttl)) // default refresh-ahead: the last 20 %
	tok := e.token(clerkapi.CreateParams{})
	if _, err := v.Verify(ctx, tok, ""); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(47 * time.Second) // before the last fifth
	if _, err := v.Verify(ctx, tok, ""); err != nil {
		t.Fatal(err)
	}
	verifier.WaitForRefreshes(v)
	if got := e.verifyCalls(); got != 1 {
		t.Fatalf("got %d verify calls before the refresh window, want 1", got)
	}
	e.clk.Advance(2 * time.Second) // 49 s: in the window
	for range 10 {                 // many hits, one refresh
		if _, err := v.Verify(ctx, tok, ""); err != nil {
			t.Fatal(err)
		}
	}
	verifier.WaitForRefreshes(v)
	if got := e.verifyCalls(); got != 2 {
		t.Fatalf("got %d verify calls after the window opened, want 2", got)
	}

	// Steady use: a request every second for three TTLs, never a miss.
	misses := v.Stats().Misses
	for range 3 * int(ttl/time.Second) {
		e.clk.Advance(time.Second)
		if _, err := v.Verify(ctx, tok, ""); err != nil {
			t.Fatalf("at %v: %v", e.clk.Now().Sub(t0), err)
		}
		verifier.WaitForRefreshes(v)
	}
	st := v.Stats()
	if st.Misses != misses {
		t.Errorf("got %d misses in steady use, want 0", st.Misses-misses)
	}
	// One refresh every 48 s over 180 s: about one call per TTL.
	if calls := e.verifyCalls() - 2; calls < 3 || calls > 4 {
		t.Errorf("got %d calls in 3 TTLs of steady use, want 3 or 4", calls)
	}
	if st.RefreshFailures != 0 {
		t.Errorf("got %d failed refreshes, want 0", st.RefreshFailures)
	}
}

// TestRefreshSeesRevocation: a refresh that finds the token revoked makes it
// refused from then on, before the TTL would.
func TestRefreshSeesRevocation(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	v := e.verifier(verifier.WithTTL(time.Minute))
	m := e.mint(e.caller.ID, clerkapi.CreateParams{})
	if _, err := v.Verify(ctx, m.Token, ""); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.RevokeToken(m.ID, "test"); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(50 * time.Second)
	if _, err := v.Verify(ctx, m.Token, ""); err != nil {
		t.Fatalf("the hit that starts the refresh is served from the cache: %v", err)
	}
	verifier.WaitForRefreshes(v)
	if _, err := v.Verify(ctx, m.Token, ""); !errors.Is(err, verifier.ErrInvalidToken) {
		t.Errorf("after the refresh: got %v, want ErrInvalidToken", err)
	}
}

// TestRefreshFailureKeepsEntry: a refresh that gets no verdict leaves the
// entry as it was, until its TTL ends and never past it.
func TestRefreshFailureKeepsEntry(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	v := e.verifier(verifier.WithTTL(time.Minute))
	tok := e.token(clerkapi.CreateParams{})
	if _, err := v.Verify(ctx, tok, ""); err != nil {
		t.Fatal(err)
	}
	e.srv.InjectOn(clerktest.EndpointVerify, clerktest.FailNext(1, 500))
	e.clk.Advance(50 * time.Second)
	if _, err := v.Verify(ctx, tok, ""); err != nil {
		t.Fatal(err)
	}
	verifier.WaitForRefreshes(v)
	if st := v.Stats(); st.Refreshes != 1 || st.RefreshFailures != 1 {
		t.Fatalf("got %d refreshes, %d failed, want 1 and 1", st.Refreshes, st.RefreshFailures)
	}
	e.clk.Advance(9 * time.Second) // 59 s: the old entry still serves
	if _, err := v.Verify(ctx, tok, ""); err != nil {
		t.Fatalf("before the TTL: %v", err)
	}
	calls := e.verifyCalls()
	e.clk.Advance(time.Second) // 60 s: the entry has ended
	if _, err := v.Verify(ctx, tok, ""); err != nil {
		t.Fatalf("after the TTL: %v", err)
	}
	if got := e.verifyCalls(); got != calls+1 {
		t.Errorf("got %d calls at the end of the TTL, want a miss (1)", got-calls)
	}
}

// TestNoRefreshNearTokenExpiry: an entry that ends with the token's own
// expiry is not refreshed (Clerk could only confirm the same expiry).
func TestNoRefreshNearTokenExpiry(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	v := e.verifier(verifier.WithTTL(time.Minute))
	tok := e.token(clerkapi.CreateParams{SecondsUntilExpiration: clerkapi.Int64(30)})
	if _, err := v.Verify(ctx, tok, ""); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(29 * time.Second)
	if _, err := v.Verify(ctx, tok, ""); err != nil {
		t.Fatal(err)
	}
	verifier.WaitForRefreshes(v)
	if got := e.verifyCalls(); got != 1 {
		t.Errorf("got %d verify calls, want 1 (no refresh)", got)
	}
}

// TestRefreshOff: WithRefreshAhead(0) never refreshes.
func TestRefreshOff(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	v := e.verifier(verifier.WithTTL(time.Minute), verifier.WithLimits(verifier.Limits{RefreshAhead: -1}))
	tok := e.token(clerkapi.CreateParams{})
	for range 59 {
		if _, err := v.Verify(ctx, tok, ""); err != nil {
			t.Fatal(err)
		}
		e.clk.Advance(time.Second)
	}
	verifier.WaitForRefreshes(v)
	if got := e.verifyCalls(); got != 1 {
		t.Errorf("got %d verify calls, want 1", got)
	}
}
