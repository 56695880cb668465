package rediscache_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/m2mauth/m2mauth/cache/rediscache"
	"github.com/m2mauth/m2mauth/cache/rediscache/internal/redistest"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/verifier"
)

// Redis as production runs it: Sentinel (a primary, a replica, three
// sentinels) and a 3-primary Cluster, every process a redis-server on
// loopback started by the test.
//
//	go test -run 'TestSentinel|TestCluster' -v ./cache/rediscache   (prints the figures)

// replicasOn returns n subscribed Verifiers, each with its own client from
// newClient.
func (c *cluster) replicasOn(n int, newClient func() redis.UniversalClient) []*verifier.Verifier {
	c.t.Helper()
	vs := make([]*verifier.Verifier, n)
	for i := range vs {
		rdb := newClient()
		c.t.Cleanup(func() { rdb.Close() })
		sc, err := rediscache.New(rdb, rediscache.WithTimeout(raceSlowdown*rediscache.DefaultTimeout))
		if err != nil {
			c.t.Fatal(err)
		}
		vs[i], _ = c.replicaOn(sc)
		subscribed(c.t, vs[i])
	}
	return vs
}

// sharing reports whether a new token verified on one replica is then
// served by another without a call to Clerk.
func (c *cluster) sharing(a, b *verifier.Verifier) bool {
	tok := c.token().Token
	if _, err := a.Verify(context.Background(), tok, ""); err != nil {
		return false
	}
	calls := c.srv.Calls(clerktest.EndpointVerify)
	_, err := b.Verify(context.Background(), tok, "")
	return err == nil && c.srv.Calls(clerktest.EndpointVerify) == calls
}

// load verifies valid tokens on every replica until stop is called, about
// 500 a second per worker, a new token one time in a hundred (within the
// replicas' call budgets even without sharing), each worker from a source of
// its own, as the middleware names a client; it returns the requests made and
// those that failed.
func (c *cluster) load(vs []*verifier.Verifier, workers int) (stop func() (total, failed int64, errs []error)) {
	ctx, cancel := context.WithCancel(context.Background())
	var total, failed atomic.Int64
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			toks := []string{c.token().Token}
			for i := 0; ctx.Err() == nil; i++ {
				if rand.IntN(100) == 0 {
					toks = append(toks, c.token().Token)
				}
				total.Add(1)
				source := "192.0.2." + strconv.Itoa(w+1)
				if _, err := vs[(w+i)%len(vs)].Verify(context.Background(), toks[rand.IntN(len(toks))], source); err != nil {
					failed.Add(1)
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
				time.Sleep(2 * time.Millisecond) // a steady load, not a busy loop
			}
		})
	}
	return func() (int64, int64, []error) {
		cancel()
		wg.Wait()
		return total.Load(), failed.Load(), errs
	}
}

// Sentinel: the primary killed under load — no valid request fails, sharing
// resumes after the promotion, and a revocation issued during the failover
// holds on every replica (the entry replicated to the promoted replica is
// deleted when the subscriptions return).
func TestSentinelFailover(t *testing.T) {
	st := redistest.StartSentinel(t)
	c := newClerk(t)
	vs := c.replicasOn(4, func() redis.UniversalClient {
		return redis.NewFailoverClient(&redis.FailoverOptions{MasterName: st.Master, SentinelAddrs: st.SentinelAddrs(),
			ContextTimeoutEnabled: true, MaxRetries: -1, DialerRetries: 1, DialTimeout: dialTimeout})
	})
	ctx := context.Background()
	if !c.sharing(vs[0], vs[1]) {
		t.Fatal("no sharing before the failover")
	}
	m := c.token()
	for _, v := range vs {
		if _, err := v.Verify(ctx, m.Token, ""); err != nil {
			t.Fatal(err)
		}
	}
	redistest.WaitReplicated(t, st.Primary)
	stop := c.load(vs, 4)
	time.Sleep(200 * time.Millisecond) // load before the kill
	calls := c.srv.Calls(clerktest.EndpointVerify)
	killed := time.Now()
	st.Primary.Stop()
	if err := c.srv.RevokeToken(m.ID, "test"); err != nil {
		t.Fatal(err)
	}
	vs[1].InvalidateID(m.ID) // during the failover: the primary is gone
	st.WaitPromoted(t)
	promoted := time.Since(killed)
	var resumed time.Duration
	eventually(t, "sharing resumed", func() bool {
		if !c.sharing(vs[2], vs[3]) {
			return false
		}
		resumed = time.Since(killed)
		return true
	})
	failoverCalls := c.srv.Calls(clerktest.EndpointVerify) - calls
	total, failed, errs := stop()
	t.Logf("Sentinel failover under load: %d requests with valid tokens, %d failed; promotion %v after the kill, sharing resumed %v after it; Clerk verify calls meanwhile: %d",
		total, failed, promoted.Round(time.Millisecond), resumed.Round(time.Millisecond), failoverCalls)
	if failed != 0 {
		t.Errorf("failed requests with valid tokens: got %d (first: %v), want 0", failed, errs[0])
	}
	for i, v := range vs {
		eventually(t, "revocation on replica "+strconv.Itoa(i), func() bool {
			_, err := v.Verify(ctx, m.Token, "")
			return errors.Is(err, verifier.ErrInvalidToken)
		})
	}
	fresh := c.replicasOn(1, func() redis.UniversalClient {
		return redis.NewFailoverClient(&redis.FailoverOptions{MasterName: st.Master, SentinelAddrs: st.SentinelAddrs(),
			ContextTimeoutEnabled: true, MaxRetries: -1, DialerRetries: 1, DialTimeout: dialTimeout})
	})[0]
	if _, err := fresh.Verify(ctx, m.Token, ""); !errors.Is(err, verifier.ErrInvalidToken) {
		t.Errorf("a replica started after the failover: got %v, want ErrInvalidToken", err)
	}
}

// Cluster: the cold burst costs one call per token, entries spread over the
// primaries, and a revocation reaches every replica.
func TestCluster(t *testing.T) {
	rc := redistest.StartCluster(t, 3)
	c := newClerk(t)
	newClient := func() redis.UniversalClient {
		return redis.NewClusterClient(&redis.ClusterOptions{Addrs: rc.Addrs(),
			ContextTimeoutEnabled: true, MaxRetries: -1, DialerRetries: 1, DialTimeout: dialTimeout})
	}
	vs := c.replicasOn(4, newClient)
	ctx := context.Background()
	tokens, perToken := 30, 20
	if raceSlowdown > 1 {
		tokens, perToken = 10, 8 // the race detector's slowdown: a smaller burst
	}
	toks := make([]string, tokens)
	for i := range toks {
		toks[i] = c.token().Token
	}
	c.srv.InjectOn(clerktest.EndpointVerify, clerktest.Latency(5*time.Millisecond))
	start := make(chan struct{})
	var wg sync.WaitGroup
	var failed atomic.Int64
	for _, tok := range toks {
		for i := range perToken {
			wg.Go(func() {
				<-start
				if _, err := vs[i%len(vs)].Verify(ctx, tok, ""); err != nil {
					failed.Add(1)
				}
			})
		}
	}
	began := time.Now()
	close(start)
	wg.Wait()
	took := time.Since(began)
	calls := c.srv.Calls(clerktest.EndpointVerify)
	fresh := c.replicasOn(1, newClient)[0]
	for _, tok := range toks {
		if _, err := fresh.Verify(ctx, tok, ""); err != nil {
			t.Fatal(err)
		}
	}
	var spread []string
	for _, n := range rc.Nodes {
		out, _ := n.Cli("DBSIZE")
		spread = append(spread, out)
	}
	t.Logf("Cluster cold burst: %d tokens × %d requests over %d replicas in %v: %d failed, %d Clerk verify calls; a fresh replica: %d more; keys per primary: %s",
		tokens, perToken, len(vs), took.Round(time.Millisecond), failed.Load(), calls, c.srv.Calls(clerktest.EndpointVerify)-calls, strings.Join(spread, ", "))
	if failed.Load() != 0 || calls > int64(tokens)+2 || c.srv.Calls(clerktest.EndpointVerify) != calls {
		t.Errorf("cold burst on a Cluster: %d failed, %d calls, fresh replica %d calls; want 0, at most %d, 0",
			failed.Load(), calls, c.srv.Calls(clerktest.EndpointVerify)-calls, tokens+2)
	}
	c.srv.ClearFaults()
	m := c.token()
	for _, v := range vs {
		if _, err := v.Verify(ctx, m.Token, ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.srv.RevokeToken(m.ID, "test"); err != nil {
		t.Fatal(err)
	}
	revoked := time.Now()
	vs[0].InvalidateID(m.ID)
	for i, v := range vs {
		eventually(t, "revocation on replica "+strconv.Itoa(i), func() bool {
			_, err := v.Verify(ctx, m.Token, "")
			return errors.Is(err, verifier.ErrInvalidToken)
		})
	}
	t.Logf("Cluster revocation: every replica refuses the token %v after InvalidateID", time.Since(revoked).Round(time.Microsecond))
}
