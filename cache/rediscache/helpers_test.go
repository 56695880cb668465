package rediscache_test

import (
	"context"
	"log/slog"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/m2mauth/m2mauth/cache/rediscache"
	"github.com/m2mauth/m2mauth/cache/rediscache/internal/redistest"
	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/verifier"
)

func TestMain(m *testing.M) {
	redis.SetLogger(quiet{}) // go-redis logs every failed dial of the outage tests
	goleak.VerifyTestMain(m)
}

type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

// cluster is one emulated Clerk and one real Redis, shared by the replicas
// (Verifiers) that a test makes.
type cluster struct {
	t      testing.TB
	srv    *clerktest.Server
	redis  *redistest.Server
	caller *clerktest.Machine
}

func newCluster(t testing.TB) *cluster { t.Helper(); return newClusterWith(t) }

// newClusterWith passes extra arguments to redis-server.
func newClusterWith(t testing.TB, extra ...string) *cluster {
	t.Helper()
	r := redistest.Start(t, extra...)
	c := newClerk(t)
	c.redis = r
	return c
}

// newClerk is a cluster without a Redis of its own (Sentinel, Cluster).
func newClerk(t testing.TB) *cluster {
	t.Helper()
	srv := clerktest.NewServer()
	t.Cleanup(srv.Close)
	callee := srv.CreateMachine("callee")
	caller := srv.CreateMachine("caller", callee.ID)
	return &cluster{t: t, srv: srv, caller: caller}
}

const dialTimeout = time.Second

// withNeeded sets the go-redis options that rediscache.New requires.
func withNeeded(o *redis.Options) *redis.Options {
	o.ContextTimeoutEnabled, o.MaxRetries, o.DialerRetries, o.DialTimeout = true, -1, 1, dialTimeout
	return o
}

// client returns a go-redis client on the cluster's Redis, closed at the end
// of the test.
func (c *cluster) client() *redis.Client {
	rdb := redis.NewClient(withNeeded(&redis.Options{Addr: c.redis.Addr}))
	c.t.Cleanup(func() { rdb.Close() })
	return rdb
}

// warns counts the Warn lines a replica logs.
type warns struct{ n atomic.Int64 }

func (w *warns) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (w *warns) Handle(context.Context, slog.Record) error    { w.n.Add(1); return nil }
func (w *warns) WithAttrs([]slog.Attr) slog.Handler           { return w }
func (w *warns) WithGroup(string) slog.Handler                { return w }

// replica returns a Verifier on the cluster's Clerk and Redis (its own
// client), closed at the end of the test, and its log's Warn counter.
func (c *cluster) replica(opts ...verifier.Option) (*verifier.Verifier, *warns) {
	c.t.Helper()
	// A generous bound: on a loaded test machine a call may take more than
	// the default 50 ms, and these tests are about sharing, not about slowness.
	sc, err := rediscache.New(c.client(), rediscache.WithTimeout(raceSlowdown*time.Second))
	if err != nil {
		c.t.Fatal(err)
	}
	return c.replicaOn(sc, opts...)
}

// replicaOn is replica on the shared cache sc.
func (c *cluster) replicaOn(sc *rediscache.Cache, opts ...verifier.Option) (*verifier.Verifier, *warns) {
	c.t.Helper()
	return c.replicaOn2(sc, opts...)
}

// replicaOn2 is replicaOn on any verifier.SharedCache.
func (c *cluster) replicaOn2(sc verifier.SharedCache, opts ...verifier.Option) (*verifier.Verifier, *warns) {
	c.t.Helper()
	w := &warns{}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	base := []verifier.Option{verifier.WithBaseURL(c.srv.URL), verifier.WithHTTPClient(&http.Client{Transport: tr}),
		verifier.WithSharedCache(sc), verifier.WithLogger(slog.New(w))}
	v, err := verifier.New(c.srv.SecretKey, append(base, opts...)...)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { v.Close(); tr.CloseIdleConnections() })
	return v, w
}

// pair returns two replicas with the default options, each subscribed.
func (c *cluster) pair() (a, b *verifier.Verifier) {
	c.t.Helper()
	a, _ = c.replica()
	b, _ = c.replica()
	subscribed(c.t, a)
	subscribed(c.t, b)
	return a, b
}

// token creates a valid token of the caller.
func (c *cluster) token() *clerkapi.M2MToken {
	c.t.Helper()
	m, err := c.srv.CreateToken(c.caller.ID, clerkapi.CreateParams{})
	if err != nil {
		c.t.Fatal(err)
	}
	return m
}

// eventually polls cond every millisecond until it holds, failing the test
// after 5 s: for what travels over pub/sub, whose delivery the test does not
// control. It is a bound, not a delay: it returns as soon as cond holds.
func eventually(t testing.TB, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Since(start) > 5*time.Second {
			t.Fatalf("%s: not within 5 s", what)
		}
		<-tick.C
	}
	return time.Since(start)
}

// subscribed waits until v's subscription is established (it purges once).
func subscribed(t testing.TB, v *verifier.Verifier) {
	t.Helper()
	eventually(t, "subscribed", func() bool { return v.Stats().SharedPurges >= 1 })
}
