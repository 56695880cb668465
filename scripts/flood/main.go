// Command flood runs the upstream-protection scenarios against an example
// service (examples/production by default), started as a process of its own, and
// prints the figures. Clerk is a clerktest emulator in this process, so the
// faults (a hanging Clerk, a rate limit, latency) and the calls that reach it
// are under its control; callers are HTTP clients bound to different
// loopback addresses, so that the example's per-source budgets see different
// sources: 127.0.0.2 sends junk, 127.0.0.1 and 127.0.0.3–6 are legitimate,
// and the distributed flood comes from 127.1.0.0/16. The scenarios with
// Redis start their own redis-server (Debian's) on a free loopback port.
//
//	go build -o /tmp/production ./examples/production
//	go run ./scripts/flood -example /tmp/production            # every scenario
//	go run ./scripts/flood -example /tmp/production -only hang
//
// Scenarios: hang, ratelimit, steady (one source each), distributed (a junk
// flood from many addresses under Clerk's rate limit), restart (a Redis
// restart under 200 tokens in use behind one address), drops (the shared
// cache's subscriptions dropped again and again). The example must read the
// environment of examples/production: CLERK_SECRET_KEY, CLERK_API_URL,
// M2M_AUDIENCE, ADDR, DEBUG_ADDR (pprof), REDIS_URL, M2M_CALL_RATE and
// M2M_CALL_BURST, and serve GET /api/whoami and GET /metrics.
//
// scripts/floodtest.sh builds and runs it. Traffic goes to 127.0.0.0/8 only;
// every loop is bounded by its scenario's duration.
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"runtime/pprof"
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
	example := flag.String("example", "", "path to the built example service (examples/production)")
	only := flag.String("only", "", "run one scenario: hang, ratelimit, steady, distributed, restart or drops")
	hangFor := flag.Duration("hang-duration", 10*time.Second, "length of the hanging-Clerk scenario")
	rlFor := flag.Duration("ratelimit-duration", 60*time.Second, "length of the rate-limit scenario")
	ttl := flag.Duration("steady-ttl", 60*time.Second, "the example's cache TTL (verifier.WithTTL's default): the steady scenario lasts 3 × it")
	var dist distributedConfig
	flag.DurationVar(&dist.d, "dist-duration", 60*time.Second, "length of the distributed flood")
	flag.IntVar(&dist.sources, "dist-sources", 200, "junk sources of the distributed flood (127.1.x.y)")
	flag.Float64Var(&dist.rate, "dist-rate", 10, "junk requests per second of each source")
	flag.Float64Var(&dist.callRate, "dist-call-rate", 8, "the example's overall budget, calls per second (M2M_CALL_RATE)")
	flag.IntVar(&dist.callBurst, "dist-call-burst", 10, "… and its burst (M2M_CALL_BURST): burst + 10 × rate must stay under Clerk's 100 per 10 s")
	flag.StringVar(&dist.profile, "dist-example-profile", "", "write the example's CPU profile during the distributed flood to this file")
	flag.DurationVar(&dist.latency, "clerk-latency", 20*time.Millisecond, "Clerk's round trip in the distributed, restart and drops scenarios")
	var rs redisConfig
	flag.StringVar(&rs.server, "redis-server", "redis-server", "the redis-server binary (restart and drops)")
	flag.StringVar(&rs.cli, "redis-cli", "redis-cli", "the redis-cli binary (drops)")
	flag.IntVar(&rs.tokens, "restart-tokens", 200, "tokens in steady use behind one address in the restart scenario")
	flag.DurationVar(&rs.restartFor, "restart-duration", 30*time.Second, "length of the restart scenario (Redis is killed at a third of it)")
	flag.IntVar(&rs.drops, "drops", 8, "subscription drops (CLIENT KILL TYPE pubsub), one a second")
	flag.BoolVar(&rs.flush, "drops-flush", false, "each drop also empties Redis (FLUSHALL): an attacker who can write there")
	cpuProfile := flag.String("cpuprofile", "", "write the load tool's own CPU profile to this file")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "flood:", err)
			os.Exit(2)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "flood:", err)
			os.Exit(2)
		}
		defer pprof.StopCPUProfile()
	}
	if *example == "" {
		fmt.Fprintln(os.Stderr, "flood: -example is required")
		os.Exit(2)
	}
	rs.latency = dist.latency
	// Each scenario but the Redis ones runs against one example started
	// with the extra environment given; those start their own.
	budget := []string{fmt.Sprint("M2M_CALL_RATE=", dist.callRate), fmt.Sprint("M2M_CALL_BURST=", dist.callBurst)}
	scenarios := []struct {
		name  string
		extra []string // nil: the scenario starts its examples itself
		run   func(*env) error
	}{
		{"hang", []string{}, func(e *env) error { return hang(e, *hangFor) }},
		{"ratelimit", []string{}, func(e *env) error { return rateLimited(e, *rlFor) }},
		{"steady", []string{}, func(e *env) error { return steady(e, *ttl) }},
		{"distributed", budget, func(e *env) error { return distributed(e, dist) }},
		{"restart", nil, func(e *env) error { return redisRestart(e, rs) }},
		{"drops", nil, func(e *env) error { return subscriptionDrops(e, rs) }},
	}
	failed := false
	defer func() {
		if failed {
			pprof.StopCPUProfile()
			os.Exit(1)
		}
	}()
	for _, s := range scenarios {
		if *only != "" && *only != s.name {
			continue
		}
		if err := withEnv(*example, s.extra, s.run); err != nil {
			fmt.Fprintf(os.Stderr, "flood: %s: %v\n", s.name, err)
			failed = true
		}
	}
}

// env is one scenario's world: the emulator, the example processes, and
// clients.
type env struct {
	srv      *clerktest.Server
	inFlight *gauge       // verify requests being answered by the emulator
	tooMany  atomic.Int64 // verify requests the emulator answered 429
	caller   *clerktest.Machine
	receiver *clerktest.Machine
	example  string
	clerkURL string
	closers  []func()
	base     string // the first example's URL
	debug    string // the first example's pprof URL
}

// withEnv starts the emulator and, unless extra is nil, one example with the
// extra environment, and runs run.
func withEnv(example string, extra []string, run func(*env) error) error {
	e, err := newEnv(example)
	if err != nil {
		return err
	}
	defer e.close()
	if extra != nil {
		if e.base, e.debug, err = e.start(extra...); err != nil {
			return err
		}
	}
	return run(e)
}

// newEnv starts the emulator, served through a gauge of the verify calls in
// flight and a counter of its 429s.
func newEnv(example string) (*env, error) {
	srv := clerktest.NewServer()
	receiver := srv.CreateMachine("receiver")
	caller := srv.CreateMachine("caller", receiver.ID)
	e := &env{srv: srv, inFlight: &gauge{}, caller: caller, receiver: receiver, example: example}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		srv.Close()
		return nil, err
	}
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/m2m_tokens/verify") {
			e.inFlight.add(1)
			defer e.inFlight.add(-1)
			w = &statusWriter{ResponseWriter: w, e: e}
		}
		srv.Handler().ServeHTTP(w, r)
	})}
	go func() { _ = hs.Serve(ln) }()
	e.clerkURL = "http://" + ln.Addr().String() + "/v1"
	e.closers = append(e.closers, func() { hs.Close(); srv.Close() })
	return e, nil
}

// statusWriter counts the emulator's 429s to verify calls.
type statusWriter struct {
	http.ResponseWriter
	e *env
}

func (w *statusWriter) WriteHeader(code int) {
	if code == http.StatusTooManyRequests {
		w.e.tooMany.Add(1)
	}
	w.ResponseWriter.WriteHeader(code)
}

// start starts one more example process on the emulator, with extra
// environment (KEY=value), and returns its URL and its pprof URL once it
// listens.
func (e *env) start(extra ...string) (base, debug string, err error) {
	port, dport := freePort(), freePort()
	cmd := exec.Command(e.example)
	cmd.Env = append(os.Environ(),
		"CLERK_SECRET_KEY="+e.srv.SecretKey,
		"CLERK_API_URL="+e.clerkURL,
		"M2M_AUDIENCE="+e.receiver.ID,
		"ADDR=127.0.0.1:"+port,
		"DEBUG_ADDR=127.0.0.1:"+dport,
	)
	cmd.Env = append(cmd.Env, extra...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", "", err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return "", "", err
	}
	e.closers = append(e.closers, func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() })
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "Listening on ") {
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	return "http://127.0.0.1:" + port, "http://127.0.0.1:" + dport, nil
}

// close stops what newEnv and start started, the last first.
func (e *env) close() {
	for i := len(e.closers) - 1; i >= 0; i-- {
		e.closers[i]()
	}
}

func freePort() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// client returns an HTTP client whose connections leave from the loopback
// address ip: the example sees ip as the request's source.
func client(ip string, timeout time.Duration) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Client{Timeout: timeout, Transport: &http.Transport{
		DialContext: d.DialContext, MaxIdleConnsPerHost: 256, MaxConnsPerHost: 0,
	}}
}

func (e *env) token(opts clerkapi.CreateParams) string {
	t, err := e.srv.CreateToken(e.caller.ID, opts)
	if err != nil {
		panic(err)
	}
	return t.Token
}

// junkToken is a well-formed opaque token Clerk never issued: 32 random
// characters of the alphabet (crypto/rand's Text gives 26 of base32, so two
// make one).
func junkToken() string {
	return "mt_" + (rand.Text() + rand.Text())[:32]
}

// result is one request's outcome.
type result struct {
	status int // 0: no answer
	d      time.Duration
}

func get(c *http.Client, url, token string) result {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return result{d: time.Since(start)}
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return result{status: resp.StatusCode, d: time.Since(start)}
}

// every calls f every interval, each call in its own goroutine, until ctx
// ends; it returns when every call has returned.
func every(ctx context.Context, interval time.Duration, f func()) {
	var wg sync.WaitGroup
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			return
		case <-t.C:
			wg.Add(1)
			go func() { defer wg.Done(); f() }()
		}
	}
}

// paced calls f every interval, one call at a time (a call that overruns its
// interval delays the next, and missed ticks are skipped), until ctx ends:
// a client that waits for each answer, and so one connection.
func paced(ctx context.Context, interval time.Duration, f func()) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f()
		}
	}
}

// results collects outcomes safely.
type results struct {
	mu  sync.Mutex
	all []result
}

func (r *results) add(x result) { r.mu.Lock(); r.all = append(r.all, x); r.mu.Unlock() }

// snapshot returns the outcomes so far, in the order they were added.
func (r *results) snapshot() []result {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.all)
}

func (r *results) summary() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.all) == 0 {
		return "no requests"
	}
	codes := map[int]int{}
	ds := make([]time.Duration, 0, len(r.all))
	for _, x := range r.all {
		codes[x.status]++
		ds = append(ds, x.d)
	}
	slices.Sort(ds)
	keys := make([]int, 0, len(codes))
	for k := range codes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d×%d", codes[k], k))
	}
	q := func(p float64) time.Duration { return ds[min(len(ds)-1, int(p*float64(len(ds))))] }
	return fmt.Sprintf("%d requests [%s] p50 %v p99 %v max %v", len(ds), strings.Join(parts, " "),
		q(0.50).Round(10*time.Microsecond), q(0.99).Round(10*time.Microsecond), ds[len(ds)-1].Round(10*time.Microsecond))
}

// quantile returns the p-quantile of the durations of the requests answered
// with status.
func (r *results) quantile(p float64, status int) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ds []time.Duration
	for _, x := range r.all {
		if x.status == status {
			ds = append(ds, x.d)
		}
	}
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[min(len(ds)-1, int(p*float64(len(ds))))]
}

func (r *results) ok() (ok, n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, x := range r.all {
		if x.status == http.StatusOK {
			ok++
		}
	}
	return ok, len(r.all)
}

// gauge is a level with its peak.
type gauge struct{ cur, peak atomic.Int64 }

func (g *gauge) add(d int64) {
	v := g.cur.Add(d)
	for p := g.peak.Load(); v > p && !g.peak.CompareAndSwap(p, v); p = g.peak.Load() {
	}
}

// sampler records the example's goroutines and heap (from its pprof) every
// 100 ms until ctx ends.
type sampler struct {
	goroutines, heap gauge
}

var (
	goroutineTotal = regexp.MustCompile(`goroutine profile: total (\d+)`)
	heapAlloc      = regexp.MustCompile(`# HeapAlloc = (\d+)`)
)

func (s *sampler) run(ctx context.Context, debugURL string) {
	c := &http.Client{Timeout: 2 * time.Second}
	read := func(path string, re *regexp.Regexp) int64 {
		resp, err := c.Get(debugURL + path)
		if err != nil {
			return -1
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		m := re.FindSubmatch(b)
		if m == nil {
			return -1
		}
		n, _ := strconv.ParseInt(string(m[1]), 10, 64)
		return n
	}
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		if n := read("/debug/pprof/goroutine?debug=1", goroutineTotal); n >= 0 {
			s.goroutines.cur.Store(n)
			s.goroutines.add(0)
		}
		if n := read("/debug/pprof/heap?debug=1", heapAlloc); n >= 0 {
			s.heap.cur.Store(n)
			s.heap.add(0)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// hang: Clerk hangs; one source sends 200 junk requests/s. A cached token
// must keep working fast, a new valid token from another source must be
// refused fast (503), and the example's calls in flight, goroutines and heap
// stay bounded.
func hang(e *env, d time.Duration) error {
	fmt.Printf("== scenario hang: Clerk's verify hangs; 200 junk req/s from 127.0.0.2 for %v\n", d)
	legit, fresh, junk := client("127.0.0.1", 30*time.Second), client("127.0.0.3", 30*time.Second), client("127.0.0.2", 30*time.Second)
	cached := e.token(clerkapi.CreateParams{})
	if r := get(legit, e.base+"/api/whoami", cached); r.status != http.StatusOK {
		return fmt.Errorf("warming the cached token: status %d", r.status)
	}
	var s sampler
	sctx, stopSampling := context.WithCancel(context.Background())
	go s.run(sctx, e.debug)
	time.Sleep(300 * time.Millisecond) // a baseline sample before the flood
	baseG, baseH := s.goroutines.cur.Load(), s.heap.cur.Load()

	e.srv.InjectOn(clerktest.EndpointVerify, clerktest.Hang())
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var jr, cr, fr results
	var wg sync.WaitGroup
	wg.Add(3)
	go func() {
		defer wg.Done()
		every(ctx, 5*time.Millisecond, func() { jr.add(get(junk, e.base+"/api/whoami", junkToken())) })
	}()
	go func() {
		defer wg.Done()
		every(ctx, 20*time.Millisecond, func() { cr.add(get(legit, e.base+"/api/whoami", cached)) })
	}()
	go func() {
		defer wg.Done()
		every(ctx, time.Second, func() { fr.add(get(fresh, e.base+"/api/whoami", e.token(clerkapi.CreateParams{}))) })
	}()
	wg.Wait()
	stopSampling()
	e.srv.ClearFaults()
	fmt.Printf("  junk (127.0.0.2):               %s\n", jr.summary())
	fmt.Printf("  cached token (127.0.0.1):       %s\n", cr.summary())
	fmt.Printf("  new valid token (127.0.0.3):    %s\n", fr.summary())
	fmt.Printf("  verify calls reaching Clerk:    %d in all, at most %d in flight at once\n",
		e.srv.Calls(clerktest.EndpointVerify), e.inFlight.peak.Load())
	fmt.Printf("  example goroutines:             %d before, peak %d\n", baseG, s.goroutines.peak.Load())
	fmt.Printf("  example heap (HeapAlloc):       %.1f MB before, peak %.1f MB\n", float64(baseH)/1e6, float64(s.heap.peak.Load())/1e6)
	return nil
}

// rateLimited: Clerk allows 100 verify calls per 10 s (its development
// limit); one source sends 50 junk requests/s, another a new valid token
// every second. At least 95 % of the valid ones must succeed.
func rateLimited(e *env, d time.Duration) error {
	fmt.Printf("== scenario ratelimit: Clerk allows 100 verify calls / 10 s; 50 junk req/s from 127.0.0.2, a new valid token every 1 s from 127.0.0.3, for %v\n", d)
	e.srv.InjectOn(clerktest.EndpointVerify, clerktest.RateLimit(100, 10*time.Second))
	junk, fresh := client("127.0.0.2", 30*time.Second), client("127.0.0.3", 30*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var jr, fr results
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		every(ctx, 20*time.Millisecond, func() { jr.add(get(junk, e.base+"/api/whoami", junkToken())) })
	}()
	go func() {
		defer wg.Done()
		every(ctx, time.Second, func() { fr.add(get(fresh, e.base+"/api/whoami", e.token(clerkapi.CreateParams{}))) })
	}()
	wg.Wait()
	ok, n := fr.ok()
	fmt.Printf("  junk (127.0.0.2):               %s\n", jr.summary())
	fmt.Printf("  new valid tokens (127.0.0.3):   %s\n", fr.summary())
	fmt.Printf("  valid tokens accepted:          %d of %d (%.1f %%)\n", ok, n, 100*float64(ok)/float64(max(n, 1)))
	fmt.Printf("  verify calls reaching Clerk:    %d (rate-limited answers included)\n", e.srv.Calls(clerktest.EndpointVerify))
	if n == 0 || float64(ok)/float64(n) < 0.95 {
		return errors.New("fewer than 95 % of the valid tokens were accepted")
	}
	return nil
}

// steady: one token used continuously (back to back, one client) for 3 × TTL,
// Clerk answering in 20 ms. After the first request none may wait for Clerk
// (refresh-ahead): none as slow as one Clerk round trip; Clerk sees about one
// call per TTL.
func steady(e *env, ttl time.Duration) error {
	d := 3 * ttl
	fmt.Printf("== scenario steady: one token, requests back to back for %v (3 × TTL), Clerk answers in 20 ms\n", d)
	e.srv.InjectOn(clerktest.EndpointVerify, clerktest.Latency(20*time.Millisecond))
	c := client("127.0.0.1", 30*time.Second)
	tok := e.token(clerkapi.CreateParams{SecondsUntilExpiration: clerkapi.Int64(int64(2 * d / time.Second))})
	first := get(c, e.base+"/api/whoami", tok)
	var rest results
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		rest.add(get(c, e.base+"/api/whoami", tok))
	}
	slow, clerkSlow := 0, 0
	rest.mu.Lock()
	for _, x := range rest.all {
		if x.d > 5*time.Millisecond {
			slow++
		}
		if x.d >= 20*time.Millisecond {
			clerkSlow++
		}
	}
	rest.mu.Unlock()
	fmt.Printf("  first request:                  status %d in %v\n", first.status, first.d.Round(10*time.Microsecond))
	fmt.Printf("  the others:                     %s\n", rest.summary())
	fmt.Printf("  requests slower than 5 ms:      %d\n", slow)
	fmt.Printf("  as slow as a Clerk call (20 ms): %d\n", clerkSlow)
	fmt.Printf("  verify calls reaching Clerk:    %d in %v (TTL %v)\n", e.srv.Calls(clerktest.EndpointVerify), d, ttl)
	return nil
}
