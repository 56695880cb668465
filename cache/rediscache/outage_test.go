package rediscache_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/m2mauth/m2mauth/cache/rediscache"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/verifier"
)

// lines records the Warn lines a replica logs.
type lines struct {
	mu sync.Mutex
	l  []string
}

func (w *lines) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (w *lines) Handle(_ context.Context, r slog.Record) error {
	s := r.Message
	r.Attrs(func(a slog.Attr) bool { s += " " + a.String(); return true })
	w.mu.Lock()
	w.l = append(w.l, s)
	w.mu.Unlock()
	return nil
}
func (w *lines) WithAttrs([]slog.Attr) slog.Handler { return w }
func (w *lines) WithGroup(string) slog.Handler      { return w }
func (w *lines) all() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.l...)
}

// Redis killed and restarted under a replica: one Warn line when the outage
// starts, naming the real cause (connection refused, not a timeout), one when
// it ends.
func TestOutageLogsItsCause(t *testing.T) {
	c := newCluster(t)
	log := &lines{}
	v, _ := c.replica(verifier.WithLogger(slog.New(log)))
	subscribed(t, v)
	c.redis.Stop()
	for range 20 {
		if _, err := v.Verify(context.Background(), c.token().Token, ""); err != nil {
			t.Fatalf("Verify with Redis down: got %v, want the token", err)
		}
	}
	c.redis.Restart()
	eventually(t, "resubscribed", func() bool { return v.Stats().SharedPurges >= 2 })
	if _, err := v.Verify(context.Background(), c.token().Token, ""); err != nil {
		t.Fatal(err)
	}
	got := log.all()
	if len(got) != 2 || !strings.Contains(got[0], "shared cache unavailable") || !strings.Contains(got[0], "connection refused") ||
		!strings.Contains(got[1], "shared cache back") {
		t.Errorf("Warn lines: got %q, want one naming \"connection refused\", then one saying it is back", got)
	}
}

// A revocation issued while Redis is down is honoured at once by the replica
// that issued it, and, once Redis is back with the stale entry (saved before
// the outage, as a promoted replica would hold it), deleted there and heard
// by every replica.
func TestRevocationDuringOutage(t *testing.T) {
	c := newClusterWith(t, "--dir", t.TempDir())
	rdb := c.client()
	ctx := context.Background()
	a, b := c.pair()
	m := c.token()
	for _, v := range []*verifier.Verifier{a, b} {
		if _, err := v.Verify(ctx, m.Token, ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := rdb.Save(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	c.redis.Stop()
	if err := c.srv.RevokeToken(m.ID, "test"); err != nil {
		t.Fatal(err)
	}
	a.InvalidateID(m.ID)
	if _, err := a.Verify(ctx, m.Token, ""); !errors.Is(err, verifier.ErrInvalidToken) {
		t.Errorf("a during the outage: got %v, want ErrInvalidToken", err)
	}
	c.redis.Restart()
	if n, _ := rdb.Keys(ctx, "*}:t").Result(); len(n) == 0 {
		t.Log("(the saved entry was not reloaded)")
	}
	eventually(t, "b refuses the token revoked during the outage", func() bool {
		_, err := b.Verify(ctx, m.Token, "")
		return errors.Is(err, verifier.ErrInvalidToken)
	})
	fresh, _ := c.replica()
	subscribed(t, fresh)
	if _, err := fresh.Verify(ctx, m.Token, ""); !errors.Is(err, verifier.ErrInvalidToken) {
		t.Errorf("a replica started afterwards: got %v, want ErrInvalidToken (the stale entry deleted)", err)
	}
}

// A result stored while Redis is down is written once it is back: a replica
// started afterwards gets it without a call to Clerk.
func TestWritesKeptThroughAnOutage(t *testing.T) {
	c := newCluster(t)
	ctx := context.Background()
	a, _ := c.replica()
	subscribed(t, a)
	c.redis.Stop()
	tok := c.token().Token
	if _, err := a.Verify(ctx, tok, ""); err != nil {
		t.Fatal(err)
	}
	c.redis.Restart()
	eventually(t, "resubscribed", func() bool { return a.Stats().SharedPurges >= 2 })
	fresh, _ := c.replica()
	subscribed(t, fresh)
	calls := c.srv.Calls(clerktest.EndpointVerify)
	if _, err := fresh.Verify(ctx, tok, ""); err != nil {
		t.Fatal(err)
	}
	if got := c.srv.Calls(clerktest.EndpointVerify) - calls; got != 0 {
		t.Errorf("verify calls of a replica started after the outage: got %d, want 0 (the result written when Redis came back)", got)
	}
}

// watched is a shared cache that counts the calls in progress that began
// after watching started, and the most at once.
type watched struct {
	verifier.SharedCache
	watching         atomic.Bool
	now, most, calls atomic.Int64
}

func (w *watched) begin() func() {
	if !w.watching.Load() {
		return func() {}
	}
	w.calls.Add(1)
	n := w.now.Add(1)
	for m := w.most.Load(); n > m && !w.most.CompareAndSwap(m, n); m = w.most.Load() {
	}
	return func() { w.now.Add(-1) }
}

func (w *watched) Fetch(ctx context.Context, key, lock, owner string, ttl time.Duration, maxLen int) ([]byte, bool, bool, error) {
	defer w.begin()()
	return w.SharedCache.Fetch(ctx, key, lock, owner, ttl, maxLen)
}

func (w *watched) Get(ctx context.Context, key string, maxLen int) ([]byte, bool, error) {
	defer w.begin()()
	return w.SharedCache.Get(ctx, key, maxLen)
}

func (w *watched) Store(ctx context.Context, keys []string, values [][]byte, ttls []time.Duration, lock, owner, channel string, msg []byte) error {
	defer w.begin()()
	return w.SharedCache.Store(ctx, keys, values, ttls, lock, owner, channel, msg)
}

func (w *watched) Delete(ctx context.Context, keys ...string) error {
	defer w.begin()()
	return w.SharedCache.Delete(ctx, keys...)
}

// A Redis that hangs (paused: connections open, no answer) costs the misses
// under way their budget once; from then on, one call at a time tries it
// again while the other misses go on without it, and no request fails. A
// revocation issued during the hang reaches the other replicas as soon as
// Redis answers again, though no subscription was lost (so no
// re-subscription replays it).
func TestHungRedis(t *testing.T) {
	c := newCluster(t)
	ctx := context.Background()
	sc, err := rediscache.New(c.client(), rediscache.WithTimeout(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	w := &watched{SharedCache: sc}
	log := &lines{}
	a, _ := c.replicaOn2(w, verifier.WithLogger(slog.New(log)), verifier.WithLimits(verifier.Limits{SourceRate: -1, CallRate: -1}))
	b, _ := c.replica()
	subscribed(t, a)
	subscribed(t, b)
	m := c.token()
	for _, v := range []*verifier.Verifier{a, b} {
		if _, err := v.Verify(ctx, m.Token, ""); err != nil {
			t.Fatal(err)
		}
	}

	c.redis.Pause()
	if err := c.srv.RevokeToken(m.ID, "test"); err != nil {
		t.Fatal(err)
	}
	a.InvalidateID(m.ID) // gets no answer within the budget: kept for later

	// 16 callers, each a new token back to back: Redis is declared down once
	// no call has worked for 500 ms; from then on, until it has been tried
	// again three times, the calls to it are watched.
	var failed atomic.Int64
	var wg sync.WaitGroup
	done := make(chan struct{})
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				if _, err := a.Verify(ctx, c.token().Token, ""); err != nil {
					failed.Add(1)
				}
			}
		}()
	}
	eventually(t, "the outage declared", func() bool { return len(log.all()) > 0 })
	w.watching.Store(true)
	eventually(t, "three tries of the paused Redis", func() bool { return w.calls.Load() >= 3 })
	close(done)
	wg.Wait()
	if n := failed.Load(); n != 0 {
		t.Errorf("verifications failed while Redis hung: %d, want 0", n)
	}
	if most := w.most.Load(); most != 1 {
		t.Errorf("calls to the paused Redis at once, once it was declared down: %d, want 1", most)
	}

	c.redis.Resume()
	eventually(t, "b refuses the token revoked during the hang", func() bool {
		_, err := b.Verify(ctx, m.Token, "")
		return errors.Is(err, verifier.ErrInvalidToken)
	})
	if n := a.Stats().SharedPurges; n != 1 {
		t.Logf("a's subscription was re-established during the hang (%d purges): the replay may have come from there", n)
	}
	got := log.all()
	if len(got) != 2 || !strings.Contains(got[1], "shared cache back") {
		t.Errorf("Warn lines: got %q, want the outage, then its end", got)
	}
}
