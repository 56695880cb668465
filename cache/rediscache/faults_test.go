package rediscache_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/m2mauth/m2mauth/cache/rediscache"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/verifier"
)

// A replica whose lock holder died (its lock left in Redis until it
// expires) verifies the token itself once the lock has expired.
func TestLockHolderDied(t *testing.T) {
	c := newCluster(t)
	rdb := c.client()
	ctx := context.Background()
	const bound = 200 * time.Millisecond // WithTimeout: the lock's TTL and the wait's bound
	a, _ := c.replica(verifier.WithLimits(verifier.Limits{Timeout: bound}))
	b, _ := c.replica(verifier.WithLimits(verifier.Limits{Timeout: bound}))
	subscribed(t, a)
	subscribed(t, b)
	gate := clerktest.NewGate()
	c.srv.InjectOn(clerktest.EndpointVerify, gate)
	tok := c.token().Token

	done := make(chan error, 1)
	go func() { _, err := a.Verify(ctx, tok, ""); done <- err }()
	<-gate.Arrived(1)
	a.Close() // the holder dies: its call is cancelled and its lock is not released
	if err := <-done; err == nil {
		t.Fatal("a: got a token, want its call cancelled by Close")
	}
	locks, err := rdb.Keys(ctx, rediscache.DefaultPrefix+"*}:l").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(locks) != 1 {
		t.Fatalf("locks in Redis after the holder died: got %q, want its one lock", locks)
	}
	gate.Release()
	if _, err := b.Verify(ctx, tok, ""); err != nil {
		t.Fatalf("b: got %v, want the token, verified by b once the lock expired", err)
	}
	if got := c.srv.Calls(clerktest.EndpointVerify); got != 2 {
		t.Errorf("verify calls: got %d, want 2 (the dead holder's, b's)", got)
	}
}

// Redis slow (DEBUG SLEEP blocks it) or refusing writes (maxmemory with
// noeviction): a valid token is verified all the same, within the bound, and
// the failures are counted.
func TestRedisSick(t *testing.T) {
	tests := []struct {
		name  string
		extra []string
		sick  func(t *testing.T, c *cluster) (cure func())
	}{
		{"slow", []string{"--enable-debug-command", "local"}, func(t *testing.T, c *cluster) func() {
			rdb := c.client()
			done := make(chan struct{})
			go func() { defer close(done); rdb.Do(context.Background(), "DEBUG", "SLEEP", "2") }()
			// Wait until Redis is asleep: a PING within 100 ms fails.
			probe := c.client()
			eventually(t, "Redis asleep", func() bool {
				ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
				defer cancel()
				return probe.Ping(ctx).Err() != nil
			})
			return func() { <-done }
		}},
		{"refusing writes", []string{"--maxmemory", "1", "--maxmemory-policy", "noeviction"}, func(*testing.T, *cluster) func() { return func() {} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClusterWith(t, tt.extra...)
			sc, err := rediscache.New(c.client(), rediscache.WithTimeout(100*time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			v, _ := c.replicaOn(sc)
			subscribed(t, v)
			cure := tt.sick(t, c)
			defer cure()
			start := time.Now()
			for range 2 {
				if _, err := v.Verify(context.Background(), c.token().Token, ""); err != nil {
					t.Fatalf("Verify: got %v, want the token", err)
				}
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("two verifications took %v, want far less than Redis's sickness (the calls are bounded)", d)
			}
			if st := v.Stats(); st.SharedErrors+st.SharedBusy == 0 {
				t.Error("SharedErrors+SharedBusy: got 0, want the failures counted")
			}
			junk := "mt_" + "3333333333333333333333333333333a"
			if _, err := v.Verify(context.Background(), junk, ""); !errors.Is(err, verifier.ErrInvalidToken) {
				t.Errorf("junk: got %v, want ErrInvalidToken", err)
			}
		})
	}
}
