package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
)

// burst is the cold deploy: every replica receives conns concurrent
// connections, each from a loopback address of its own (its own source
// budget), asking together for ntok new tokens, each token on every replica.
// It prints the Clerk verify calls per token, p50/p99 of the requests and
// the Redis commands per token.
func burst(e *env, ntok, conns int) error {
	fmt.Printf("== burst: %d replicas × %d connections, %d new tokens at once (each token on every replica)\n", len(e.replicas), conns, ntok)
	toks := make([]string, ntok)
	for i := range toks {
		t, err := e.srv.CreateToken(e.caller.ID, clerkapi.CreateParams{})
		if err != nil {
			return err
		}
		toks[i] = t.Token
	}
	ops0, err := e.redis.commands()
	if err != nil {
		return err
	}
	calls0 := e.verifyCalls()
	perConn := (ntok + conns - 1) / conns // tokens each connection asks for
	var mu sync.Mutex
	var ds []time.Duration
	bad := map[int]int{}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for r, rep := range e.replicas {
		for w := range conns {
			n := r*conns + w
			ip := net.IPv4(127, 2, byte(n/250), byte(1+n%250))
			d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}}
			c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: d.DialContext}}
			wg.Go(func() {
				defer c.CloseIdleConnections()
				<-start
				for k := range perConn {
					i := w + k*conns
					if i >= ntok {
						return
					}
					t0 := time.Now()
					s := get(c, rep.base+"/api/whoami", toks[(i+r*ntok/len(e.replicas))%ntok])
					d := time.Since(t0)
					mu.Lock()
					ds = append(ds, d)
					if s != http.StatusOK {
						bad[s]++
					}
					mu.Unlock()
				}
			})
		}
	}
	began := time.Now()
	close(start)
	wg.Wait()
	took := time.Since(began)
	calls := e.verifyCalls() - calls0
	ops1, err := e.redis.commands()
	if err != nil {
		return err
	}
	slices.Sort(ds)
	fmt.Printf("%d requests in %v, not 200: %v; Clerk verify calls: %d for %d tokens (%.3f per token; %d without the shared cache)\n",
		len(ds), took.Round(time.Millisecond), bad, calls, ntok, float64(calls)/float64(ntok), ntok*len(e.replicas))
	fmt.Printf("request latency: p50 %v, p99 %v, max %v\n", ds[len(ds)/2].Round(10*time.Microsecond),
		ds[len(ds)*99/100].Round(10*time.Microsecond), ds[len(ds)-1].Round(10*time.Microsecond))
	var total int64
	var parts []string
	for cmd, n := range ops1 {
		if d := n - ops0[cmd]; d > 0 && cmd != "info" {
			total += d
			parts = append(parts, fmt.Sprintf("%s %d", cmd, d))
		}
	}
	slices.Sort(parts)
	fmt.Printf("Redis commands: %d (%.2f per token): %s\n", total, float64(total)/float64(ntok), strings.Join(parts, ", "))
	for i, rep := range e.replicas { // why a request was refused, as each replica counts it
		var lines []string
		for _, l := range strings.Split(scrape(rep.base+"/metrics"), "\n") {
			if (strings.HasPrefix(l, "m2mauth_admission_refusals_total") || strings.HasPrefix(l, "m2mauth_budget_refusals_total") ||
				strings.HasPrefix(l, "m2mauth_shared_cache_busy_total") || strings.HasPrefix(l, "m2mauth_shared_cache_cluster_waits_total")) &&
				!strings.HasSuffix(l, " 0") {
				lines = append(lines, l)
			}
		}
		fmt.Printf("replica %d: %s\n", i, strings.Join(lines, "; "))
	}
	return nil
}

// scrape returns the body of a GET of url, or "" on failure.
func scrape(url string) string {
	res, err := http.Get(url)
	if err != nil {
		return ""
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

// commands returns the calls of each command since the server started
// (INFO commandstats; a script's inner commands are counted too).
func (r *redisServer) commands() (map[string]int64, error) {
	v, err := r.do("INFO", "commandstats")
	if err != nil {
		return nil, err
	}
	s, _ := v.(string)
	out := map[string]int64{}
	for _, line := range strings.Split(s, "\n") {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":calls=")
		if !ok {
			continue
		}
		n, _ := strconv.ParseInt(strings.SplitN(rest, ",", 2)[0], 10, 64)
		out[strings.TrimPrefix(name, "cmdstat_")] = n
	}
	return out, nil
}
