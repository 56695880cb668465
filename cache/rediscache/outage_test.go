package rediscache_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

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
	a, _ := c.replica()
	b, _ := c.replica()
	subscribed(t, a)
	subscribed(t, b)
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
