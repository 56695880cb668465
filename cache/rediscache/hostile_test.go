package rediscache_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/m2mauth/m2mauth/cache/rediscache"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/verifier"
)

// The attacks of issue 16 on a Redis that someone without the secret key
// can write to, each made straight into a real redis-server. What a replica
// may still accept is bounded; nothing makes a revoked token pass on a
// replica that heard the revocation, and nothing stalls a verification
// beyond the budget.

// keyOf returns the one key in Redis matching pattern.
func keyOf(t *testing.T, rdb *redis.Client, pattern string) string {
	t.Helper()
	keys, err := rdb.Keys(context.Background(), rediscache.DefaultPrefix+pattern).Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 {
		t.Fatalf("keys matching %q: got %q, want one", pattern, keys)
	}
	return keys[0]
}

// (a) A genuine entry copied aside before InvalidateID and written back
// afterwards: a replica that heard the revocation refuses it (the entry
// predates it); one started afterwards accepts it for what is left of its
// own TTL from when the entry was verified, never longer.
func TestHostileReplayAfterRevocation(t *testing.T) {
	c := newCluster(t)
	rdb := c.client()
	ctx := context.Background()
	clk := clerktest.NewClock(time.Now())
	at := verifier.WithClock(clk.Now)
	a, _ := c.replica(at)
	heard, _ := c.replica(at)
	subscribed(t, a)
	subscribed(t, heard)
	m := c.token()
	for _, v := range []*verifier.Verifier{a, heard} {
		if _, err := v.Verify(ctx, m.Token, ""); err != nil {
			t.Fatal(err)
		}
	}
	entry := keyOf(t, rdb, "*}:t")
	old, err := rdb.Get(ctx, entry).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.srv.RevokeToken(m.ID, "test"); err != nil {
		t.Fatal(err)
	}
	a.InvalidateID(m.ID)
	eventually(t, "the revocation heard", func() bool {
		_, err := heard.Verify(ctx, m.Token, "")
		return errors.Is(err, verifier.ErrInvalidToken)
	})
	clk.Advance(2 * time.Second)
	replay := func() {
		t.Helper()
		if err := rdb.Set(ctx, entry, old, time.Hour).Err(); err != nil {
			t.Fatal(err)
		}
	}
	// A replica started after the revocation did not hear it: it may accept
	// the replayed entry, until the entry's verification time + its TTL.
	replay()
	late, _ := c.replica(at, verifier.WithTTL(10*time.Second))
	subscribed(t, late)
	_, errLate := late.Verify(ctx, m.Token, "")
	t.Logf("replica started after the revocation, 2 s after the entry was verified: %v (accepted until 10 s after)", errLate)
	clk.Advance(10 * time.Second) // past late's TTL, and heard's negative entry
	replay()
	if _, err := late.Verify(ctx, m.Token, ""); !errors.Is(err, verifier.ErrInvalidToken) {
		t.Errorf("late replica, its TTL after the entry was verified: got %v, want ErrInvalidToken", err)
	}
	replay()
	rejected := heard.Stats().SharedRejected
	if _, err := heard.Verify(ctx, m.Token, ""); !errors.Is(err, verifier.ErrInvalidToken) {
		t.Errorf("the replica that heard the revocation, replayed entry: got %v, want ErrInvalidToken", err)
	}
	if got := heard.Stats().SharedRejected - rejected; got != 1 {
		t.Errorf("SharedRejected of the replica that heard it: got %d more, want 1 (the replayed entry)", got)
	}
}

// (b) The index entry deleted (or evicted): InvalidateID cannot find the
// shared entry, which stays in Redis, but every replica that heard the
// revocation refuses it.
func TestHostileIndexDeleted(t *testing.T) {
	c := newCluster(t)
	rdb := c.client()
	ctx := context.Background()
	a, b := c.pair()
	m := c.token()
	if _, err := a.Verify(ctx, m.Token, ""); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Del(ctx, keyOf(t, rdb, "*}:i")).Err(); err != nil {
		t.Fatal(err)
	}
	entry := keyOf(t, rdb, "*}:t")
	if err := c.srv.RevokeToken(m.ID, "test"); err != nil {
		t.Fatal(err)
	}
	a.InvalidateID(m.ID)
	if rdb.Exists(ctx, entry).Val() != 1 {
		t.Fatal("the shared entry is gone: the attack did not hide it")
	}
	for _, v := range []*verifier.Verifier{b, a} { // b first: a's refusal would overwrite the entry
		eventually(t, "the revoked token refused", func() bool {
			_, err := v.Verify(ctx, m.Token, "")
			return errors.Is(err, verifier.ErrInvalidToken)
		})
	}
	if got := b.Stats().SharedRejected; got == 0 {
		t.Error("b's SharedRejected: got 0, want the stale entry refused")
	}
}

// (c) A recorded back-off message published again: at once (its nonce was
// heard) and later (stale), it is refused; no replica backs off.
func TestHostileBackoffReplay(t *testing.T) {
	c := newCluster(t)
	rdb := c.client()
	ctx := context.Background()
	clk := clerktest.NewClock(time.Now())
	a, _ := c.replica(verifier.WithClock(clk.Now))
	b, _ := c.replica(verifier.WithClock(clk.Now))
	subscribed(t, a)
	subscribed(t, b)
	chans, err := rdb.PubSubChannels(ctx, rediscache.DefaultPrefix+"*").Result()
	if err != nil || len(chans) != 1 {
		t.Fatalf("channels: got %q, %v; want one", chans, err)
	}
	rec := rdb.Subscribe(ctx, chans[0])
	defer rec.Close()
	if _, err := rec.Receive(ctx); err != nil { // the subscription's confirmation
		t.Fatal(err)
	}
	c.srv.InjectOn(clerktest.EndpointVerify, clerktest.RateLimited(2*time.Second))
	if _, err := a.Verify(ctx, c.token().Token, ""); !errors.Is(err, verifier.ErrUnavailable) {
		t.Fatalf("a under a 429: got %v, want ErrUnavailable", err)
	}
	c.srv.ClearFaults()
	msg, err := rec.ReceiveMessage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(3 * time.Second) // the back-off is over
	for _, when := range []struct {
		name    string
		advance time.Duration
	}{{"replayed at once", 0}, {"replayed a minute later", time.Minute}} {
		clk.Advance(when.advance)
		rejected := b.Stats().SharedRejected
		if err := rdb.Publish(ctx, chans[0], msg.Payload).Err(); err != nil {
			t.Fatal(err)
		}
		eventually(t, when.name+": the message refused", func() bool { return b.Stats().SharedRejected > rejected })
		if _, err := b.Verify(ctx, c.token().Token, ""); err != nil {
			t.Errorf("%s: b got %v, want the token (no back-off)", when.name, err)
		}
	}
}

// (d) An entry written with a TTL longer than the reader's: the reader
// trusts it for its own TTL from when it was verified.
func TestHostileLongTTL(t *testing.T) {
	c := newCluster(t)
	ctx := context.Background()
	clk := clerktest.NewClock(time.Now())
	writer, _ := c.replica(verifier.WithClock(clk.Now), verifier.WithTTL(time.Hour))
	reader, _ := c.replica(verifier.WithClock(clk.Now), verifier.WithTTL(2*time.Second))
	subscribed(t, writer)
	subscribed(t, reader)
	m := c.token()
	if _, err := writer.Verify(ctx, m.Token, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := reader.Verify(ctx, m.Token, ""); err != nil {
		t.Fatal(err)
	}
	if reader.Stats().SharedHits != 1 {
		t.Fatalf("reader's shared hits: got %d, want 1", reader.Stats().SharedHits)
	}
	if err := c.srv.RevokeToken(m.ID, "test"); err != nil { // at Clerk only: no InvalidateID
		t.Fatal(err)
	}
	clk.Advance(3 * time.Second)
	if _, err := reader.Verify(ctx, m.Token, ""); !errors.Is(err, verifier.ErrInvalidToken) {
		t.Errorf("reader (TTL 2 s) at 3 s: got %v, want ErrInvalidToken (asked Clerk again)", err)
	}
}

// (e) A 50 MB value under a real entry's name: refused unread (the replica
// allocates far less than the value), the token verified with Clerk, and
// the value replaced.
func TestHostileHugeValue(t *testing.T) {
	c := newCluster(t)
	rdb := c.client()
	ctx := context.Background()
	a, b := c.pair()
	m := c.token()
	if _, err := a.Verify(ctx, m.Token, ""); err != nil {
		t.Fatal(err)
	}
	entry := keyOf(t, rdb, "*}:t")
	// The attacker's write of 50 MB may take seconds on a loaded machine:
	// its own client, without a write timeout.
	attacker := redis.NewClient(&redis.Options{Addr: c.redis.Addr, WriteTimeout: -1, ReadTimeout: -1})
	t.Cleanup(func() { attacker.Close() })
	if err := attacker.Set(ctx, entry, strings.Repeat("x", 50<<20), time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	calls := c.srv.Calls(clerktest.EndpointVerify)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, err := b.Verify(ctx, m.Token, ""); err != nil {
		t.Fatalf("b: got %v, want the token", err)
	}
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > 5<<20 {
		t.Errorf("allocated during the lookup: %d bytes, want far less than the 50 MB value", got)
	}
	if got := c.srv.Calls(clerktest.EndpointVerify) - calls; got != 1 {
		t.Errorf("verify calls: got %d, want 1", got)
	}
	if got := b.Stats().SharedRejected; got == 0 {
		t.Error("SharedRejected: got 0, want the value counted")
	}
	if n := rdb.StrLen(ctx, entry).Val(); n > 4<<10 {
		t.Errorf("entry after b's write: %d bytes, want b's entry in place of the value", n)
	}
}

// (f) A lock name written without expiry: the first replica to miss takes
// it over; a caller with a 3 s deadline is served, and the lock does not
// stay.
func TestHostileEternalLock(t *testing.T) {
	c := newCluster(t)
	rdb := c.client()
	ctx := context.Background()
	a, b := c.pair()
	m := c.token()
	if _, err := a.Verify(ctx, m.Token, ""); err != nil {
		t.Fatal(err)
	}
	entry := keyOf(t, rdb, "*}:t")
	lock := strings.TrimSuffix(entry, ":t") + ":l" // the names are visible in Redis
	if err := rdb.Del(ctx, entry).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Set(ctx, lock, "attacker", 0).Err(); err != nil {
		t.Fatal(err)
	}
	dctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if _, err := b.Verify(dctx, m.Token, ""); err != nil {
		t.Fatalf("b with a 3 s deadline: got %v, want the token", err)
	}
	if got := b.Stats().ClusterWaits + b.Stats().SharedBusy; got != 0 {
		t.Errorf("b waited on the lock: ClusterWaits+SharedBusy %d, want 0 (taken over)", got)
	}
	if rdb.Exists(ctx, lock).Val() != 0 {
		t.Error("the lock is still there after b's write, want it released")
	}
}
