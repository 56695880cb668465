package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
)

// redisConfig is the Redis scenarios' (see the flags).
type redisConfig struct {
	server, cli string
	tokens      int
	restartFor  time.Duration
	drops       int
	flush       bool // each drop also empties Redis (FLUSHALL)
	latency     time.Duration
}

// redisProc is a redis-server on a free loopback port, without persistence.
type redisProc struct {
	bin, port string
	cmd       *exec.Cmd
}

func startRedis(bin string) (*redisProc, error) {
	r := &redisProc{bin: bin, port: freePort()}
	return r, r.start()
}

// start runs redis-server and returns once it accepts connections.
func (r *redisProc) start() error {
	r.cmd = exec.Command(r.bin, "--bind", "127.0.0.1", "--port", r.port, "--save", "", "--appendonly", "no",
		"--protected-mode", "no")
	out, err := r.cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := r.cmd.Start(); err != nil {
		return err
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if strings.Contains(sc.Text(), "Ready to accept connections") {
			go func() { _, _ = io.Copy(io.Discard, out) }()
			return nil
		}
	}
	r.kill()
	return errors.New("redis-server exited before accepting connections")
}

// kill kills redis-server as a crash would, and waits for it.
func (r *redisProc) kill() {
	if r.cmd != nil {
		_ = r.cmd.Process.Kill()
		_ = r.cmd.Wait()
		r.cmd = nil
	}
}

func (r *redisProc) url() string { return "redis://127.0.0.1:" + r.port + "/0" }

// warm verifies n new tokens once on base, 20 per source address
// (127.0.2.x: within each source's burst), and returns them.
func warm(e *env, base string, n int) ([]string, error) {
	toks := make([]string, n)
	for i := range toks {
		toks[i] = e.token(clerkapi.CreateParams{})
	}
	for i := 0; i < n; i += 20 {
		c := client(fmt.Sprintf("127.0.2.%d", i/20+1), 30*time.Second)
		for _, tok := range toks[i:min(n, i+20)] {
			if r := get(c, base+"/api/whoami", tok); r.status != http.StatusOK {
				return nil, fmt.Errorf("warming a token up: status %d", r.status)
			}
		}
	}
	return toks, nil
}

// inUse keeps toks in use from client c until ctx ends: workers goroutines
// each take a part of them, each token about every period, each request to
// the next of bases in turn.
func inUse(ctx context.Context, c *http.Client, bases, toks []string, workers int, period time.Duration, res *results) {
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			var mine []string
			for i := w; i < len(toks); i += workers {
				mine = append(mine, toks[i])
			}
			t := time.NewTicker(period / time.Duration(len(mine)))
			defer t.Stop()
			for i := 0; ; i++ {
				res.add(get(c, bases[i%len(bases)]+"/api/whoami", mine[i%len(mine)]))
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
			}
		})
	}
	wg.Wait()
}

// The series the Redis scenarios report.
var sharedSeries = []string{
	"m2mauth_shared_cache_purges_total", "m2mauth_refills_total",
	`m2mauth_shared_cache_lookups_total{result="hit"}`, `m2mauth_shared_cache_lookups_total{result="miss"}`,
	"m2mauth_shared_cache_errors_total", `m2mauth_admission_refusals_total{reason="source_budget"}`,
	`m2mauth_admission_refusals_total{reason="overload"}`,
}

// redisRestart: c.tokens tokens in steady use (each about every 500 ms) from
// one address (127.0.0.5) on one replica sharing its cache over Redis; at a
// third of the run, Redis is killed and started again, empty, 2 s later. The
// replica's subscription comes back and its cache is purged: every valid
// request must still pass.
func redisRestart(e *env, c redisConfig) error {
	fmt.Printf("== scenario restart: %d tokens in steady use behind one address (127.0.0.5) for %v, Clerk answering in %v; Redis killed at %v and started again, empty, 2 s later\n",
		c.tokens, c.restartFor, c.latency, c.restartFor/3)
	r, err := startRedis(c.server)
	if err != nil {
		return err
	}
	defer r.kill()
	e.srv.Inject(clerktest.Latency(c.latency))
	base, _, err := e.start("REDIS_URL=" + r.url())
	if err != nil {
		return err
	}
	toks, err := warm(e, base, c.tokens)
	if err != nil {
		return err
	}
	before, err := scrape(base)
	if err != nil {
		return err
	}
	calls0 := e.srv.Calls(clerktest.EndpointVerify)
	ctx, cancel := context.WithTimeout(context.Background(), c.restartFor)
	defer cancel()
	var res results
	done := make(chan struct{})
	go func() {
		defer close(done)
		inUse(ctx, client("127.0.0.5", 30*time.Second), []string{base}, toks, 8, 500*time.Millisecond, &res)
	}()
	time.Sleep(c.restartFor / 3)
	r.kill()
	time.Sleep(2 * time.Second)
	if err := r.start(); err != nil {
		return err
	}
	<-done
	after, err := scrape(base)
	if err != nil {
		return err
	}
	ok, n := res.ok()
	fmt.Printf("  requests (127.0.0.5):           %s\n", res.summary())
	fmt.Printf("  refused valid requests:         %d of %d\n", n-ok, n)
	fmt.Printf("  verify calls reaching Clerk:    %d\n", e.srv.Calls(clerktest.EndpointVerify)-calls0)
	for _, m := range sharedSeries {
		fmt.Printf("  %-62s %s\n", m, delta(before, after, m))
	}
	if ok != n {
		return fmt.Errorf("%d valid requests refused", n-ok)
	}
	return nil
}

// subscriptionDrops: two replicas share their cache over Redis; 20 tokens
// are in steady use (each about every 100 ms) from one address (127.0.0.6),
// the requests alternating between the replicas. An attacker who can reach
// Redis drops every subscription (CLIENT KILL TYPE pubsub) c.drops times, one
// a second; with c.flush, it also empties Redis each time (FLUSHALL), as one
// that can write there may. Reported: the purges and the calls to Clerk they
// cost.
func subscriptionDrops(e *env, c redisConfig) error {
	const inUseTokens = 20
	what := "CLIENT KILL TYPE pubsub"
	if c.flush {
		what = "FLUSHALL and " + what
	}
	fmt.Printf("== scenario drops: 2 replicas on one Redis, %d tokens in steady use behind one address (127.0.0.6), Clerk answering in %v; %d × %s, one a second\n",
		inUseTokens, c.latency, c.drops, what)
	r, err := startRedis(c.server)
	if err != nil {
		return err
	}
	defer r.kill()
	e.srv.Inject(clerktest.Latency(c.latency))
	var bases []string
	for range 2 {
		base, _, err := e.start("REDIS_URL=" + r.url())
		if err != nil {
			return err
		}
		bases = append(bases, base)
	}
	toks, err := warm(e, bases[0], inUseTokens)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var res results
	done := make(chan struct{})
	go func() {
		defer close(done)
		inUse(ctx, client("127.0.0.6", 30*time.Second), bases, toks, 4, 100*time.Millisecond, &res)
	}()
	time.Sleep(2 * time.Second) // both replicas hold the tokens
	before, err := scrapeAll(bases)
	if err != nil {
		return err
	}
	calls0 := e.srv.Calls(clerktest.EndpointVerify)
	n0 := len(res.snapshot())
	for range c.drops {
		if c.flush {
			if out, err := exec.Command(c.cli, "-p", r.port, "FLUSHALL").CombinedOutput(); err != nil {
				return fmt.Errorf("redis-cli: %v: %s", err, out)
			}
		}
		if out, err := exec.Command(c.cli, "-p", r.port, "CLIENT", "KILL", "TYPE", "pubsub").CombinedOutput(); err != nil {
			return fmt.Errorf("redis-cli: %v: %s", err, out)
		}
		time.Sleep(time.Second)
	}
	time.Sleep(3 * time.Second) // the last subscriptions come back, their misses settle
	calls := e.srv.Calls(clerktest.EndpointVerify) - calls0
	after, err := scrapeAll(bases)
	if err != nil {
		return err
	}
	cancel()
	<-done
	window := res.snapshot()[n0:]
	bad := 0
	for _, x := range window {
		if x.status != http.StatusOK {
			bad++
		}
	}
	fmt.Printf("  requests from the first drop on: %d, refused: %d (%s)\n", len(window), bad, statuses(window))
	fmt.Printf("  verify calls reaching Clerk:    %d (from the first drop to 3 s after the last)\n", calls)
	for _, m := range sharedSeries {
		a, ok := sum(after, m)
		if !ok {
			fmt.Printf("  %-62s n/a\n", m)
			continue
		}
		b, _ := sum(before, m)
		fmt.Printf("  %-62s %g (both replicas)\n", m, a-b)
	}
	return nil
}

// statuses renders the statuses of rs other than 200, with their counts.
func statuses(rs []result) string {
	var r results
	for _, x := range rs {
		if x.status != http.StatusOK {
			r.add(x)
		}
	}
	if len(r.all) == 0 {
		return "none"
	}
	s := r.summary()
	return s[strings.IndexByte(s, '[')+1 : strings.IndexByte(s, ']')]
}

// scrapeAll scrapes each example.
func scrapeAll(bases []string) ([]map[string]float64, error) {
	var all []map[string]float64
	for _, b := range bases {
		m, err := scrape(b)
		if err != nil {
			return nil, err
		}
		all = append(all, m)
	}
	return all, nil
}
