package rediscache_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/m2mauth/m2mauth/cache/rediscache"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/verifier"
)

func TestNew(t *testing.T) {
	needed := redis.Options{ContextTimeoutEnabled: true, MaxRetries: -1, DialerRetries: 1}
	tests := []struct {
		name    string
		opts    *redis.Options
		copts   []rediscache.Option
		wantErr string
	}{
		{"the options it needs", &needed, nil, ""},
		{"default client", &redis.Options{}, nil, "set ContextTimeoutEnabled: true, MaxRetries: -1, DialerRetries: 1 in its options"},
		{"retries", &redis.Options{ContextTimeoutEnabled: true, DialerRetries: 1, MaxRetries: 2}, nil, "set MaxRetries: -1 in"},
		{"dial retries", &redis.Options{ContextTimeoutEnabled: true, MaxRetries: -1}, nil, "set DialerRetries: 1 in"},
		{"no context timeouts", &redis.Options{MaxRetries: -1, DialerRetries: 1, ReadTimeout: 20 * time.Millisecond}, nil, "set ContextTimeoutEnabled: true in"},
		{"zero timeout", &needed, []rediscache.Option{rediscache.WithTimeout(0)}, "timeout must be positive"},
		{"empty prefix", &needed, []rediscache.Option{rediscache.WithPrefix("")}, "empty prefix"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rdb := redis.NewClient(tt.opts)
			defer rdb.Close()
			_, err := rediscache.New(rdb, tt.copts...)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("got %v, want no error", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("got %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
	if _, err := rediscache.New(nil); err == nil {
		t.Fatal("New(nil): got no error, want one")
	}
	cl := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}})
	defer cl.Close()
	if _, err := rediscache.New(cl); err == nil || !strings.Contains(err.Error(), "ContextTimeoutEnabled: true, DialerRetries: 1") {
		t.Errorf("default cluster client: got %v, want an error naming ContextTimeoutEnabled and DialerRetries (it retries nothing by default)", err)
	}
}

// Four replicas, concurrent cold requests for each token on every replica:
// one call to Clerk per token; a second pass, none.
func TestOneCallPerTokenForTheCluster(t *testing.T) {
	c := newCluster(t)
	const replicas, tokens = 4, 10
	vs := make([]*verifier.Verifier, replicas)
	for i := range vs {
		vs[i], _ = c.replica()
		subscribed(t, vs[i])
	}
	toks := make([]string, tokens)
	for i := range toks {
		toks[i] = c.token().Token
	}
	// Clerk holds the first verify calls until every replica's request is
	// under way: the replicas that did not take a token's lock wait for it.
	gate := clerktest.NewGate()
	c.srv.InjectOn(clerktest.EndpointVerify, gate)
	var wg sync.WaitGroup
	errs := make(chan error, replicas*tokens)
	for _, tok := range toks {
		for _, v := range vs {
			wg.Go(func() {
				if _, err := v.Verify(context.Background(), tok, ""); err != nil {
					errs <- err
				}
			})
		}
	}
	<-gate.Arrived(1)
	gate.Release()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Verify: %v", err)
	}
	if got := c.srv.Calls(clerktest.EndpointVerify); got != tokens {
		var errs uint64
		for _, v := range vs {
			errs += v.Stats().SharedErrors
		}
		t.Errorf("verify calls after the cold pass: got %d, want %d (one per token); Redis errors: %d", got, tokens, errs)
	}
	for _, tok := range toks {
		for _, v := range vs {
			if _, err := v.Verify(context.Background(), tok, ""); err != nil {
				t.Errorf("second pass: %v", err)
			}
		}
	}
	if got := c.srv.Calls(clerktest.EndpointVerify); got != tokens {
		t.Errorf("verify calls after the second pass: got %d, want %d", got, tokens)
	}
	var waits, hits uint64
	for _, v := range vs {
		waits += v.Stats().ClusterWaits
		hits += v.Stats().SharedHits
	}
	if waits+hits == 0 {
		t.Errorf("got no cluster waits and no shared hits, want the replicas to share the calls")
	}
}

// A replica filled from Redis serves the token without a call; a refusal is
// shared too.
func TestSharedEntries(t *testing.T) {
	c := newCluster(t)
	a, b := c.pair()
	m := c.token()
	got, err := a.Verify(context.Background(), m.Token, "")
	if err != nil {
		t.Fatal(err)
	}
	gotB, err := b.Verify(context.Background(), m.Token, "")
	if err != nil {
		t.Fatal(err)
	}
	if gotB.ID != got.ID || gotB.Subject != got.Subject || !gotB.ExpiresAt.Equal(got.ExpiresAt) || len(gotB.Scopes) != len(got.Scopes) {
		t.Errorf("token from Redis: got %+v, want %+v", gotB, got)
	}
	junk := "mt_" + strings.Repeat("0", 32)
	if _, err := a.Verify(context.Background(), junk, ""); !errors.Is(err, verifier.ErrInvalidToken) {
		t.Fatalf("junk on a: got %v, want ErrInvalidToken", err)
	}
	if _, err := b.Verify(context.Background(), junk, ""); !errors.Is(err, verifier.ErrInvalidToken) {
		t.Fatalf("junk on b: got %v, want ErrInvalidToken", err)
	}
	if got := c.srv.Calls(clerktest.EndpointVerify); got != 2 {
		t.Errorf("verify calls: got %d, want 2 (one per token, whatever the replica)", got)
	}
	if got := b.Stats().SharedHits; got != 2 {
		t.Errorf("b's shared hits: got %d, want 2", got)
	}
}

// InvalidateID on one replica: every replica refuses the revoked token.
func TestInvalidateIDReachesEveryReplica(t *testing.T) {
	tests := []struct {
		name       string
		invalidate func(v *verifier.Verifier, id, token string)
	}{
		{"InvalidateID", func(v *verifier.Verifier, id, _ string) { v.InvalidateID(id) }},
		{"Invalidate", func(v *verifier.Verifier, _, token string) { v.Invalidate(token) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCluster(t)
			vs := make([]*verifier.Verifier, 3)
			for i := range vs {
				vs[i], _ = c.replica()
				subscribed(t, vs[i])
			}
			m := c.token()
			for _, v := range vs {
				if _, err := v.Verify(context.Background(), m.Token, ""); err != nil {
					t.Fatal(err)
				}
			}
			if err := c.srv.RevokeToken(m.ID, "test"); err != nil {
				t.Fatal(err)
			}
			tt.invalidate(vs[0], m.ID, m.Token)
			for i, v := range vs {
				eventually(t, "revocation on every replica", func() bool {
					_, err := v.Verify(context.Background(), m.Token, "")
					return errors.Is(err, verifier.ErrInvalidToken)
				})
				_ = i
			}
		})
	}
}

// Entries that do not authenticate are ignored and counted: garbage,
// truncated, another version, and a genuine entry copied under another
// token's name (a junk token made to look valid).
func TestForgedEntriesAreIgnored(t *testing.T) {
	tests := []struct {
		name   string
		forge  func(valid []byte) []byte
		target string // "own": the valid token's entry; "junk": a junk token's
	}{
		{"garbage", func([]byte) []byte { return []byte("garbage") }, "own"},
		{"truncated", func(b []byte) []byte { return b[:len(b)-1] }, "own"},
		{"bit flipped", func(b []byte) []byte { b = append([]byte(nil), b...); b[5] ^= 1; return b }, "own"},
		{"other version", func(b []byte) []byte { b = append([]byte(nil), b...); b[0] = 1; return b }, "own"},
		{"valid entry under a junk token's name", func(b []byte) []byte { return b }, "junk"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCluster(t)
			rdb := c.client()
			ctx := context.Background()
			a, _ := c.replica()
			subscribed(t, a)
			m := c.token()
			if _, err := a.Verify(ctx, m.Token, ""); err != nil {
				t.Fatal(err)
			}
			validKey := onlyKey(t, rdb, nil)
			valid, err := rdb.Get(ctx, validKey).Bytes()
			if err != nil {
				t.Fatal(err)
			}
			junk := "mt_" + strings.Repeat("1", 32)
			target, tok := validKey, m.Token
			if tt.target == "junk" {
				if _, err := a.Verify(ctx, junk, ""); !errors.Is(err, verifier.ErrInvalidToken) {
					t.Fatalf("junk: got %v, want ErrInvalidToken", err)
				}
				target, tok = onlyKey(t, rdb, map[string]bool{validKey: true}), junk
			}
			if err := rdb.Set(ctx, target, tt.forge(valid), time.Minute).Err(); err != nil {
				t.Fatal(err)
			}
			b, _ := c.replica() // a new replica: nothing in its own cache
			subscribed(t, b)
			calls := c.srv.Calls(clerktest.EndpointVerify)
			_, err = b.Verify(ctx, tok, "")
			if tt.target == "junk" && !errors.Is(err, verifier.ErrInvalidToken) {
				t.Fatalf("junk with a forged entry: got %v, want ErrInvalidToken", err)
			}
			if tt.target == "own" && err != nil {
				t.Fatalf("valid token with a forged entry: got %v, want it verified by Clerk", err)
			}
			if got := c.srv.Calls(clerktest.EndpointVerify) - calls; got != 1 {
				t.Errorf("verify calls: got %d, want 1 (the entry ignored)", got)
			}
			if got := b.Stats().SharedRejected; got == 0 {
				t.Errorf("SharedRejected: got 0, want the entry counted")
			}
		})
	}
}

// onlyKey returns the one token entry in Redis not in seen.
func onlyKey(t *testing.T, rdb *redis.Client, seen map[string]bool) string {
	t.Helper()
	keys, err := rdb.Keys(context.Background(), rediscache.DefaultPrefix+"*}:t").Result()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, k := range keys {
		if !seen[k] {
			out = append(out, k)
		}
	}
	if len(out) != 1 {
		t.Fatalf("token entries in Redis: got %q, want one new", out)
	}
	return out[0]
}

// Names in Redis hold neither the token nor the secret key, and differ
// between secret keys.
func TestNamesHoldNoSecret(t *testing.T) {
	c := newCluster(t)
	rdb := c.client()
	a, _ := c.replica()
	m := c.token()
	if _, err := a.Verify(context.Background(), m.Token, ""); err != nil {
		t.Fatal(err)
	}
	keys, err := rdb.Keys(context.Background(), "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) == 0 {
		t.Fatal("got no keys in Redis, want the token's entry")
	}
	for _, k := range keys {
		for _, secret := range []string{m.Token, m.Token[3:], c.srv.SecretKey, c.srv.SecretKey[8:]} {
			if strings.Contains(k, secret) {
				t.Errorf("key %q holds a secret", k)
			}
		}
		v, _ := rdb.Get(context.Background(), k).Result()
		if strings.Contains(v, m.Token) || strings.Contains(v, c.srv.SecretKey) {
			t.Errorf("value of %q holds a secret", k)
		}
	}
}

// Redis down: requests go on with the replica's cache and Clerk, the outage
// is logged once; back: the subscription is re-established (own cache
// emptied) and Redis shared again.
func TestRedisDownAndBack(t *testing.T) {
	c := newCluster(t)
	a, logA := c.replica()
	b, _ := c.replica()
	subscribed(t, a)
	subscribed(t, b)
	c.redis.Stop()
	toks := []string{c.token().Token, c.token().Token}
	for range 3 {
		for _, tok := range toks {
			for _, v := range []*verifier.Verifier{a, b} {
				if _, err := v.Verify(context.Background(), tok, ""); err != nil {
					t.Fatalf("Verify with Redis down: got %v, want the token", err)
				}
			}
		}
	}
	if got := c.srv.Calls(clerktest.EndpointVerify); got != 4 {
		t.Errorf("verify calls with Redis down: got %d, want 4 (one per token and replica)", got)
	}
	if got := logA.n.Load(); got != 1 {
		t.Errorf("Warn lines during the outage: got %d, want 1", got)
	}
	if a.Stats().SharedErrors == 0 {
		t.Error("SharedErrors: got 0, want the failed calls counted")
	}
	junk := "mt_" + strings.Repeat("2", 32)
	if _, err := a.Verify(context.Background(), junk, ""); !errors.Is(err, verifier.ErrInvalidToken) {
		t.Errorf("junk with Redis down: got %v, want ErrInvalidToken", err)
	}
	c.redis.Restart()
	for _, v := range []*verifier.Verifier{a, b} {
		eventually(t, "resubscribed", func() bool { return v.Stats().SharedPurges >= 2 })
	}
	calls := c.srv.Calls(clerktest.EndpointVerify)
	tok := c.token().Token
	for _, v := range []*verifier.Verifier{a, b} {
		if _, err := v.Verify(context.Background(), tok, ""); err != nil {
			t.Fatal(err)
		}
	}
	if got := c.srv.Calls(clerktest.EndpointVerify) - calls; got != 1 {
		t.Errorf("verify calls for a new token after Redis is back: got %d, want 1", got)
	}
}

// Clerk's 429 on one replica makes every replica back off.
func TestSharedBackoff(t *testing.T) {
	c := newCluster(t)
	a, b := c.pair()
	c.srv.InjectOn(clerktest.EndpointVerify, clerktest.RateLimited(30*time.Second))
	if _, err := a.Verify(context.Background(), c.token().Token, ""); !errors.Is(err, verifier.ErrUnavailable) {
		t.Fatalf("a under a 429: got %v, want ErrUnavailable", err)
	}
	c.srv.ClearFaults()
	calls := c.srv.Calls(clerktest.EndpointVerify)
	eventually(t, "b backing off", func() bool {
		_, err := b.Verify(context.Background(), c.token().Token, "")
		return errors.Is(err, verifier.ErrUnavailable) && b.Stats().BackoffRefusals > 0
	})
	if got := c.srv.Calls(clerktest.EndpointVerify) - calls; got > 1 {
		t.Errorf("b's verify calls before it backed off: got %d, want at most 1", got)
	}
}

func TestNewFromURL(t *testing.T) {
	tests := []struct {
		name, url, wantErr string
	}{
		{"redis", "redis://127.0.0.1:6379/0", ""},
		{"with password", "redis://user:hunter2@127.0.0.1:6379/1", ""},
		{"wrong scheme", "http://user:hunter2@127.0.0.1:6379/0", "scheme"},
		{"bad database", "redis://user:hunter2@127.0.0.1:6379/x", "database"},
		{"unparseable", "redis://user:hunter2@[::1", "does not parse"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, rdb, err := rediscache.NewFromURL(tt.url)
			if rdb != nil {
				defer rdb.Close()
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("got %v, want no error", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("got %v, want an error containing %q", err, tt.wantErr)
			case err != nil && strings.Contains(err.Error(), "hunter2"):
				t.Fatalf("error %q holds the password", err)
			}
		})
	}
}
