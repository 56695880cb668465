// Command cluster runs the scale-out scenarios of the shared cache: R
// replicas of examples/production (processes of their own, REDIS_URL set)
// share one redis-server (started here on a free loopback port, no
// persistence) and one Clerk emulator (in this process, so that its verify
// calls are counted), and it prints the figures:
//
//   - cold: T tokens × N requests each, round-robin over the replicas, all at
//     once → verify calls (want T), then a second pass (want 0 more);
//
//   - burst: the cold deploy — every replica receives C concurrent
//     connections (default 256), asking for B new tokens (default 500) all at
//     once → Clerk verify calls per token (want ≤ 1.02), p50/p99 of the
//     burst's requests, Redis commands per token (INFO commandstats);
//
//   - revoke: a token revoked at the emulator and InvalidateID on one replica
//     (its DEBUG_ADDR) → how long until every replica refuses it, p50/p99;
//
//   - outage: Redis killed during a load run and restarted → failed requests
//     with valid tokens, verify calls per token before, during and after, the
//     slowest request for a new token while Redis is down, and how long after
//     the restart sharing resumes;
//
//   - forged: a genuine entry copied in Redis under a junk token's name → the
//     junk token is still refused.
//
//     go build -o /tmp/production ./examples/production
//     go run ./scripts/cluster -example /tmp/production
//
// scripts/clustertest.sh does both. Traffic goes to 127.0.0.0/8 only; every
// loop is bounded.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
)

func main() {
	example := flag.String("example", "", "path to the built examples/production binary")
	replicas := flag.Int("replicas", 4, "replica processes")
	tokens := flag.Int("tokens", 50, "tokens of the cold scenario")
	requests := flag.Int("requests", 40, "requests per token of the cold scenario")
	trials := flag.Int("trials", 100, "revocations measured")
	burstTokens := flag.Int("burst-tokens", 500, "new tokens of the burst scenario")
	conns := flag.Int("conns", 256, "concurrent connections per replica in the burst scenario")
	flag.Parse()
	if *example == "" {
		fmt.Fprintln(os.Stderr, "cluster: -example is required")
		os.Exit(2)
	}
	if err := run(*example, *replicas, *tokens, *requests, *trials, *burstTokens, *conns); err != nil {
		fmt.Fprintln(os.Stderr, "cluster:", err)
		os.Exit(1)
	}
}

type env struct {
	srv      *clerktest.Server
	caller   *clerktest.Machine
	redis    *redisServer
	replicas []replica
	nextIP   atomic.Int64
}

type replica struct{ base, debug string }

func run(example string, nrep, ntok, nreq, trials, btok, conns int) error {
	rs, err := startRedis()
	if err != nil {
		return err
	}
	defer rs.stop()
	srv := clerktest.NewServer()
	defer srv.Close()
	receiver := srv.CreateMachine("receiver")
	e := &env{srv: srv, caller: srv.CreateMachine("caller", receiver.ID), redis: rs}
	for i := range nrep {
		r, stop, err := startReplica(example, srv, receiver.ID, rs.addr)
		if err != nil {
			return fmt.Errorf("replica %d: %w", i, err)
		}
		defer stop()
		e.replicas = append(e.replicas, r)
	}
	fmt.Printf("cluster: %d replicas of %s, redis-server on %s, Clerk emulated in this process\n\n", nrep, example, rs.addr)
	for _, sc := range []func(*env) error{
		func(e *env) error { return cold(e, ntok, nreq) },
		func(e *env) error { return burst(e, btok, conns) },
		func(e *env) error { return outage(e, ntok) },
		// after the outage: its 100 trials spend the replicas' call budgets
		// (Limits.CallRate), which the outage's new tokens would then hit.
		func(e *env) error { return revoke(e, trials) },
		forged,
	} {
		if err := sc(e); err != nil {
			return err
		}
		fmt.Println()
	}
	return nil
}

func startReplica(example string, srv *clerktest.Server, audience, redisAddr string) (replica, func(), error) {
	port, dport := freePort(), freePort()
	cmd := exec.Command(example)
	cmd.Env = append(os.Environ(),
		"CLERK_SECRET_KEY="+srv.SecretKey,
		"CLERK_API_URL="+srv.URL,
		"M2M_AUDIENCE="+audience,
		"ADDR=127.0.0.1:"+port,
		"DEBUG_ADDR=127.0.0.1:"+dport,
		"REDIS_URL=redis://"+redisAddr+"/0",
		// A budget sized for a deploy: the cold burst sends each replica its
		// share of 500 new tokens at once (about 125 calls), more than the
		// default overall burst (100, half of it for sources in good standing,
		// which a deploy's new connections are not yet).
		"M2M_CALL_RATE=100", "M2M_CALL_BURST=500",
	)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return replica{}, nil, err
	}
	cmd.Stderr = &stderrLines // go-redis logs each failed dial of the outage: counted, not shown
	if err := cmd.Start(); err != nil {
		return replica{}, nil, err
	}
	stop := func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() }
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "Listening on ") {
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	return replica{base: "http://127.0.0.1:" + port, debug: "http://127.0.0.1:" + dport}, stop, nil
}

// stderrLines counts the lines the replicas write to stderr.
var stderrLines lineCounter

type lineCounter struct{ n atomic.Int64 }

func (l *lineCounter) Write(p []byte) (int, error) {
	l.n.Add(int64(strings.Count(string(p), "\n")))
	return len(p), nil
}

func freePort() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// caller is one calling machine: a token and an HTTP client whose connections
// leave from a loopback address of its own (its source, for the replicas'
// per-source budgets).
type caller struct {
	id, token string
	c         *http.Client
}

func (e *env) newCaller() caller {
	t, err := e.srv.CreateToken(e.caller.ID, clerkapi.CreateParams{})
	if err != nil {
		panic(err)
	}
	n := e.nextIP.Add(1)
	ip := net.IPv4(127, 1, byte(n/250), byte(1+n%250))
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}}
	return caller{id: t.ID, token: t.Token, c: &http.Client{Timeout: 5 * time.Second,
		Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 64}}}
}

func (c caller) get(r replica) int {
	return get(c.c, r.base+"/api/whoami", c.token)
}

func get(c *http.Client, url, token string) int {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode
}

func (e *env) verifyCalls() int64 { return e.srv.Calls(clerktest.EndpointVerify) }

// pass sends n requests for each caller, round-robin over the replicas, all
// at once; it returns the statuses other than 200.
func (e *env) pass(cs []caller, n int) map[int]int {
	var mu sync.Mutex
	bad := map[int]int{}
	var wg sync.WaitGroup
	for _, c := range cs {
		for i := range n {
			wg.Go(func() {
				if s := c.get(e.replicas[i%len(e.replicas)]); s != http.StatusOK {
					mu.Lock()
					bad[s]++
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	return bad
}

func cold(e *env, ntok, nreq int) error {
	fmt.Printf("== cold: %d tokens × %d requests, round-robin over %d replicas, all at once\n", ntok, nreq, len(e.replicas))
	cs := make([]caller, ntok)
	for i := range cs {
		cs[i] = e.newCaller()
	}
	before := e.verifyCalls()
	start := time.Now()
	bad := e.pass(cs, nreq)
	first := e.verifyCalls() - before
	fmt.Printf("first pass:  %d requests in %v, not 200: %v, Clerk verify calls: %d (want %d; %d without the shared cache)\n",
		ntok*nreq, time.Since(start).Round(time.Millisecond), bad, first, ntok, ntok*len(e.replicas))
	bad = e.pass(cs, nreq)
	fmt.Printf("second pass: not 200: %v, Clerk verify calls: %d more (want 0)\n", bad, e.verifyCalls()-before-first)
	return nil
}

func revoke(e *env, trials int) error {
	fmt.Printf("== revoke: %d trials; revoke at the emulator, InvalidateID on replica 0, time until every replica answers 401\n", trials)
	var ds []time.Duration
	for range trials {
		c := e.newCaller()
		for _, r := range e.replicas {
			if s := c.get(r); s != http.StatusOK {
				return fmt.Errorf("revoke: warm-up got %d", s)
			}
		}
		if err := e.srv.RevokeToken(c.id, "cluster test"); err != nil {
			return err
		}
		start := time.Now()
		resp, err := http.Post(e.replicas[0].debug+"/debug/m2mauth/invalidate?id="+c.id, "", nil)
		if err != nil {
			return err
		}
		resp.Body.Close()
		var worst atomic.Int64
		var wg sync.WaitGroup
		for _, r := range e.replicas {
			wg.Go(func() {
				deadline := start.Add(5 * time.Second)
				for c.get(r) != http.StatusUnauthorized {
					if time.Now().After(deadline) {
						worst.Store(int64(time.Hour))
						return
					}
				}
				d := int64(time.Since(start))
				for {
					w := worst.Load()
					if d <= w || worst.CompareAndSwap(w, d) {
						return
					}
				}
			})
		}
		wg.Wait()
		ds = append(ds, time.Duration(worst.Load()))
	}
	slices.Sort(ds)
	fmt.Printf("propagation to every replica: p50 %v, p99 %v, max %v (over %d trials)\n",
		ds[len(ds)/2].Round(10*time.Microsecond), ds[len(ds)*99/100].Round(10*time.Microsecond), ds[len(ds)-1].Round(10*time.Microsecond), len(ds))
	return nil
}

func outage(e *env, ntok int) error {
	fmt.Printf("== outage: load over every replica (%d tokens); Redis killed, new tokens during the outage, Redis restarted\n", ntok)
	var failed, total atomic.Int64
	var killed atomic.Bool    // Redis is down: the requests' latencies are recorded
	var slowest atomic.Int64  // the slowest request while Redis is down, ns
	statuses := map[int]int{} // of the failed requests, under mu
	var mu sync.Mutex
	var live []caller
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	addTokens := func() {
		cs := make([]caller, ntok)
		for i := range cs {
			cs[i] = e.newCaller()
		}
		mu.Lock()
		live = append(live, cs...)
		mu.Unlock()
	}
	addTokens() // the first tokens, before the load starts
	var next atomic.Int64
	wg.Go(func() { // 8 workers: every caller in turn, each round on the next replica
		var w sync.WaitGroup
		for range 8 {
			w.Go(func() {
				for ctx.Err() == nil {
					n := int(next.Add(1))
					mu.Lock()
					c := live[n%len(live)]
					r := e.replicas[(n/len(live))%len(e.replicas)]
					mu.Unlock()
					total.Add(1)
					t0 := time.Now()
					st := c.get(r)
					if d := int64(time.Since(t0)); killed.Load() {
						for m := slowest.Load(); d > m && !slowest.CompareAndSwap(m, d); m = slowest.Load() {
						}
					}
					if st != http.StatusOK {
						failed.Add(1)
						mu.Lock()
						statuses[st]++
						mu.Unlock()
					}
				}
			})
		}
		w.Wait()
	})
	// phase reports the verify calls of a phase per token of per (those the
	// phase's calls are for: its new tokens, or all of them).
	phase := func(name string, d time.Duration, per int) {
		before := e.verifyCalls()
		time.Sleep(d) // the load runs meanwhile: this is the phase's length
		calls := e.verifyCalls() - before
		fmt.Printf("%-44s %4d Clerk verify calls (%.1f per token), failed so far %d of %d\n",
			name, calls, float64(calls)/float64(per), failed.Load(), total.Load())
	}
	phase(fmt.Sprintf("redis up, %d new tokens (2 s):", ntok), 2*time.Second, ntok)
	phase("redis up, same tokens (1 s):", time.Second, ntok)
	e.redis.stop()
	killed.Store(true)
	addTokens()
	phase(fmt.Sprintf("redis killed, %d more new tokens (2 s):", ntok), 2*time.Second, ntok)
	killed.Store(false)
	if err := e.redis.start(); err != nil {
		cancel()
		wg.Wait()
		return err
	}
	restarted := time.Now()
	resumed := time.Duration(-1)
	for time.Since(restarted) < 10*time.Second { // a new token on replica 0, then on 1: shared once no call is made
		c := e.newCaller()
		if c.get(e.replicas[0]) != http.StatusOK {
			continue
		}
		before := e.verifyCalls()
		if c.get(e.replicas[1]) == http.StatusOK && e.verifyCalls() == before {
			resumed = time.Since(restarted)
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	fmt.Printf("while Redis was down, slowest request: %v; after the restart, sharing resumed in %v\n",
		time.Duration(slowest.Load()).Round(100*time.Microsecond), resumed.Round(time.Millisecond))
	phase(fmt.Sprintf("redis restarted, empty; all %d tokens (3 s):", 2*ntok), 3*time.Second, 2*ntok)
	phase(fmt.Sprintf("redis up, same %d tokens (2 s):", 2*ntok), 2*time.Second, 2*ntok)
	cancel()
	wg.Wait()
	fmt.Printf("requests with valid tokens: %d, failed: %d %v (want 0); lines on the replicas' stderr: %d (go-redis's dial errors)\n",
		total.Load(), failed.Load(), statuses, stderrLines.n.Load())
	return nil
}

func forged(e *env) error {
	fmt.Println("== forged: a genuine entry copied in Redis under a junk token's name")
	c := e.newCaller()
	if s := c.get(e.replicas[0]); s != http.StatusOK {
		return fmt.Errorf("forged: valid token got %d", s)
	}
	keys0, err := e.redis.keys()
	if err != nil {
		return err
	}
	junk := "mt_" + strings.Repeat("f", 32)
	if s := get(c.c, e.replicas[0].base+"/api/whoami", junk); s != http.StatusUnauthorized {
		return fmt.Errorf("forged: junk got %d", s)
	}
	keys1, err := e.redis.keys()
	if err != nil {
		return err
	}
	var validKey, junkKey string
	for _, k := range keys1 {
		if !strings.HasSuffix(k, "}:t") {
			continue
		}
		if slices.Contains(keys0, k) {
			validKey = k // (the last of the earlier ones; any genuine positive entry will do)
		} else {
			junkKey = k
		}
	}
	if validKey == "" || junkKey == "" {
		return fmt.Errorf("forged: entries not found in %q", keys1)
	}
	val, err := e.redis.get(validKey)
	if err != nil {
		return err
	}
	if err := e.redis.set(junkKey, val); err != nil {
		return err
	}
	fmt.Printf("keys look like %q (no token, no key)\n", junkKey)
	before := e.verifyCalls()
	for i, r := range e.replicas[1:] {
		s := get(c.c, r.base+"/api/whoami", junk)
		fmt.Printf("replica %d, junk token with the forged entry: %d (want 401)\n", i+1, s)
	}
	fmt.Printf("Clerk verify calls: %d (the forged entry ignored, the first replica asked Clerk, the others shared it)\n", e.verifyCalls()-before)
	return nil
}
