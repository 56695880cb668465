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
// budget; a purge within PurgeInterval of the one that granted refills still
// retires everything, but charges the misses as new work; the next interval
// grants refills again.
func TestRefillsUncharged(t *testing.T) {
	const inUse = 5
	e := newEnv(t)
	v := e.verifier(verifier.WithLimits(verifier.Limits{SourceRate: 0.001, SourceBurst: inUse}))
	ctx := context.Background()
	nat := "192.0.2.10" // many callers behind one address
	toks := newTokens(e, inUse)
	useAll := func(step string, want error) {
		t.Helper()
		for i, tok := range toks {
			if _, err := v.Verify(ctx, tok, nat); !errors.Is(err, want) {
				t.Errorf("%s: token %d: got %v, want %v", step, i, err, want)
			}
		}
	}
	useAll("first use", nil)
	if _, err := v.Verify(ctx, e.token(clerkapi.CreateParams{}), nat); !errors.Is(err, verifier.ErrRateLimited) {
		t.Fatalf("a new token: got %v, want ErrRateLimited (the budget is spent)", err)
	}

	calls := e.verifyCalls()
	verifier.PurgeLocal(v)
	useAll("after a purge", nil)
	if got := e.verifyCalls() - calls; got != inUse {
		t.Errorf("got %d calls after the purge, want %d", got, inUse)
	}
	if st := v.Stats(); st.Refills != inUse || st.RateLimited != 1 {
		t.Errorf("got %d refills and %d rate limited, want %d and 1", st.Refills, st.RateLimited, inUse)
	}

	e.clk.Advance(verifier.PurgeInterval - time.Second)
	verifier.PurgeLocal(v)
	useAll("after a second purge within the interval", verifier.ErrRateLimited)

	e.clk.Advance(time.Second)
	verifier.PurgeLocal(v)
	useAll("after a purge in the next interval", nil)
	if st := v.Stats(); st.Refills != 2*inUse {
		t.Errorf("got %d refills, want %d", st.Refills, 2*inUse)
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

// memShared is a SharedCache in memory whose subscribers can be cut off and
// reconnected, as a Redis that drops subscriptions (CLIENT KILL TYPE pubsub)
// while keeping its data.
type memShared struct {
	mu     sync.Mutex
	values map[string][]byte
	subs   []*memSub
}

type memSub struct {
	onMessage    func([]byte)
	onSubscribed func()
	connected    bool
}

func newMemShared() *memShared { return &memShared{values: map[string][]byte{}} }

func (m *memShared) Get(_ context.Context, key string) ([]byte, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.values[key]
	return v, ok, nil
}

func (m *memShared) Set(_ context.Context, key string, value []byte, _ time.Duration) error {
	m.mu.Lock()
	m.values[key] = value
	m.mu.Unlock()
	return nil
}

func (m *memShared) Delete(_ context.Context, keys ...string) error {
	m.mu.Lock()
	for _, k := range keys {
		delete(m.values, k)
	}
	m.mu.Unlock()
	return nil
}

func (m *memShared) Lock(context.Context, string, string, time.Duration) (bool, error) {
	return true, nil
}
func (m *memShared) Unlock(context.Context, string, string) error { return nil }

// Publish delivers msg to the connected subscribers, before it returns.
func (m *memShared) Publish(_ context.Context, _ string, msg []byte) error {
	m.mu.Lock()
	var to []func([]byte)
	for _, s := range m.subs {
		if s.connected {
			to = append(to, s.onMessage)
		}
	}
	m.mu.Unlock()
	for _, f := range to {
		f(msg)
	}
	return nil
}

// Subscribe connects at once.
func (m *memShared) Subscribe(_ string, onMessage func([]byte), onSubscribed func()) func() {
	s := &memSub{onMessage: onMessage, onSubscribed: onSubscribed, connected: true}
	m.mu.Lock()
	m.subs = append(m.subs, s)
	m.mu.Unlock()
	onSubscribed()
	return func() {
		m.mu.Lock()
		s.connected = false
		m.mu.Unlock()
	}
}

// cut drops the i-th subscription; reconnect re-establishes it.
func (m *memShared) cut(i int) {
	m.mu.Lock()
	m.subs[i].connected = false
	m.mu.Unlock()
}

func (m *memShared) reconnect(i int) {
	m.mu.Lock()
	s := m.subs[i]
	s.connected = true
	m.mu.Unlock()
	s.onSubscribed()
}

// TestPurgeConfirmsFromSharedCache: when a replica's subscription comes back,
// the tokens it cached are confirmed by the shared cache, without a call to
// Clerk, unless a revocation it missed deleted them there: then Clerk is
// asked (a refill) and refuses. A subscription that drops and comes back so
// costs Clerk nothing while the shared cache keeps its data.
func TestPurgeConfirmsFromSharedCache(t *testing.T) {
	e := newEnv(t)
	sc := newMemShared()
	a := e.verifier(verifier.WithSharedCache(sc)) // subscription 0
	b := e.verifier(verifier.WithSharedCache(sc)) // subscription 1
	ctx := context.Background()
	kept, revoked := e.mint(e.caller.ID, clerkapi.CreateParams{}), e.mint(e.caller.ID, clerkapi.CreateParams{})
	for _, tok := range []string{kept.Token, revoked.Token} {
		if _, err := a.Verify(ctx, tok, "192.0.2.10"); err != nil {
			t.Fatal(err)
		}
	}
	sc.cut(0)
	if err := e.srv.RevokeToken(revoked.ID, "compromised"); err != nil {
		t.Fatal(err)
	}
	b.InvalidateID(revoked.ID) // deletes the shared entry; a does not hear it
	if _, err := a.Verify(ctx, revoked.Token, "192.0.2.10"); err != nil {
		t.Fatalf("during the gap, a serves what it cached: got %v", err)
	}
	calls := e.verifyCalls()
	sc.reconnect(0)
	for range 3 {
		if _, err := a.Verify(ctx, kept.Token, "192.0.2.10"); err != nil {
			t.Errorf("kept token after the re-subscription: %v", err)
		}
	}
	if got := e.verifyCalls() - calls; got != 0 {
		t.Errorf("kept token: got %d calls to Clerk, want 0 (confirmed by the shared cache)", got)
	}
	if _, err := a.Verify(ctx, revoked.Token, "192.0.2.10"); !errors.Is(err, verifier.ErrInvalidToken) {
		t.Errorf("revoked token after the re-subscription: got %v, want ErrInvalidToken", err)
	}
	if got := e.verifyCalls() - calls; got != 1 {
		t.Errorf("got %d calls to Clerk in all, want 1 (the revoked token)", got)
	}
	if st := a.Stats(); st.SharedPurges != 2 || st.Refills != 1 || st.SharedHits != 1 {
		t.Errorf("got %d purges, %d refills, %d shared hits; want 2, 1, 1", st.SharedPurges, st.Refills, st.SharedHits)
	}
}
