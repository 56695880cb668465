package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
)

// distributedConfig is the distributed flood's (see the flags).
type distributedConfig struct {
	d         time.Duration
	sources   int
	rate      float64
	callRate  float64
	callBurst int
	latency   time.Duration
	profile   string // write the example's CPU profile during the flood here
}

// junkIP is the address of the i-th source of the distributed flood.
func junkIP(i int) string { return fmt.Sprintf("127.1.%d.%d", i/250, i%250+1) }

// distributed: Clerk allows 100 verify calls per 10 s and answers in
// c.latency; the example's overall budget stays under that limit. c.sources
// junk sources (127.1.x.y) send c.rate junk requests per second each (one at
// a time, each on its connection); a
// source with a valid history (127.0.0.3) presents a new valid token every
// second, and so does a source with none (127.0.0.4). At least 95 % of the
// first one's tokens must pass, with a p99 less than 100 ms above Clerk's
// round trip, and Clerk must see no more calls than the budget.
func distributed(e *env, c distributedConfig) error {
	fmt.Printf("== scenario distributed: %d junk sources × %g req/s (127.1.0.0/16) for %v; Clerk allows 100 verify calls / 10 s and answers in %v; "+
		"the example's budget %g calls/s, burst %d; a new valid token every 1 s from a source with a valid history (127.0.0.3) and from one without (127.0.0.4)\n",
		c.sources, c.rate, c.d, c.latency, c.callRate, c.callBurst)
	e.srv.InjectOn(clerktest.EndpointVerify, clerktest.RateLimit(100, 10*time.Second))
	e.srv.Inject(clerktest.Latency(c.latency))
	legit, fresh := client("127.0.0.3", 30*time.Second), client("127.0.0.4", 30*time.Second)
	if r := get(legit, e.base+"/api/whoami", e.token(clerkapi.CreateParams{})); r.status != http.StatusOK {
		return fmt.Errorf("the valid history: status %d", r.status)
	}
	before, err := scrape(e.base)
	if err != nil {
		return err
	}
	calls0, tooMany0 := e.srv.Calls(clerktest.EndpointVerify), e.tooMany.Load()

	ctx, cancel := context.WithTimeout(context.Background(), c.d)
	defer cancel()
	start := time.Now()
	var jr, lr, fr results
	var firstOK atomic.Int64 // when the source without history first got a token through, ns after start
	var wg sync.WaitGroup
	interval := time.Duration(float64(time.Second) / c.rate)
	for i := range c.sources {
		cl := client(junkIP(i), 30*time.Second)
		wg.Go(func() {
			t := time.NewTimer(time.Duration(i) * interval / time.Duration(c.sources)) // spread the sources over the interval
			defer t.Stop()
			select {
			case <-t.C:
			case <-ctx.Done():
				return
			}
			paced(ctx, interval, func() { jr.add(get(cl, e.base+"/api/whoami", junkToken())) })
		})
	}
	wg.Go(func() {
		every(ctx, time.Second, func() { lr.add(get(legit, e.base+"/api/whoami", e.token(clerkapi.CreateParams{}))) })
	})
	wg.Go(func() {
		every(ctx, time.Second, func() {
			r := get(fresh, e.base+"/api/whoami", e.token(clerkapi.CreateParams{}))
			fr.add(r)
			if r.status == http.StatusOK {
				firstOK.CompareAndSwap(0, int64(time.Since(start)))
			}
		})
	})
	if c.profile != "" {
		wg.Go(func() { saveProfile(e.debug, c.d-time.Second, c.profile) })
	}
	wg.Wait()
	calls, tooMany := e.srv.Calls(clerktest.EndpointVerify)-calls0, e.tooMany.Load()-tooMany0
	after, err := scrape(e.base)
	if err != nil {
		return err
	}

	ok, n := lr.ok()
	okF, nF := fr.ok()
	p99 := lr.quantile(0.99, http.StatusOK)
	budget := float64(c.callBurst) + c.callRate*c.d.Seconds()
	fmt.Printf("  junk (%d sources):              %s\n", c.sources, jr.summary())
	fmt.Printf("  valid history (127.0.0.3):      %s\n", lr.summary())
	slow := 0
	for _, x := range lr.snapshot() {
		if x.status == http.StatusOK && x.d-c.latency >= 100*time.Millisecond {
			slow++
		}
	}
	fmt.Printf("  … accepted:                     %d of %d (%.1f %%), p99 of the accepted %v, p90 %v (Clerk's round trip %v); %d of them 100 ms or more above it\n",
		ok, n, 100*float64(ok)/float64(max(n, 1)), p99.Round(10*time.Microsecond),
		lr.quantile(0.90, http.StatusOK).Round(10*time.Microsecond), c.latency, slow)
	fmt.Printf("  no history (127.0.0.4):         %s\n", fr.summary())
	if f := firstOK.Load(); f > 0 {
		fmt.Printf("  … accepted:                     %d of %d, the first after %v\n", okF, nF, time.Duration(f).Round(100*time.Millisecond))
	} else {
		fmt.Printf("  … accepted:                     0 of %d\n", nF)
	}
	fmt.Printf("  verify calls reaching Clerk:    %d in %v (the budget: %d + %g × %.0f s = %.0f); Clerk's 429s: %d\n",
		calls, c.d, c.callBurst, c.callRate, c.d.Seconds(), budget, tooMany)
	for _, m := range []string{
		`m2mauth_admissions_total{share="reserved"}`, `m2mauth_admissions_total{share="unreserved"}`,
		`m2mauth_budget_refusals_total{share="reserved"}`, `m2mauth_budget_refusals_total{share="unreserved"}`,
		`m2mauth_admission_refusals_total{reason="overload"}`, `m2mauth_admission_refusals_total{reason="source_budget"}`,
		`m2mauth_admission_refusals_total{reason="backoff"}`, `m2mauth_admission_refusals_total{reason="breaker"}`,
		`m2mauth_verify_errors_total{reason="unavailable"}`, `m2mauth_verify_errors_total{reason="canceled"}`,
	} {
		fmt.Printf("  %-62s %s\n", m, delta(before, after, m))
	}
	if g, ok := after["m2mauth_sources_in_good_standing"]; ok {
		fmt.Printf("  %-62s %g (at the end)\n", "m2mauth_sources_in_good_standing", g)
	}
	var fails []string
	if n == 0 || float64(ok)/float64(n) < 0.95 {
		fails = append(fails, "fewer than 95 % of the tokens of the source with a valid history were accepted")
	}
	if p99-c.latency >= 100*time.Millisecond {
		fails = append(fails, "the p99 of its accepted tokens is 100 ms or more above Clerk's round trip")
	}
	if float64(calls) > budget {
		fails = append(fails, "Clerk saw more calls than the budget")
	}
	if len(fails) > 0 {
		return errors.New(strings.Join(fails, "; "))
	}
	return nil
}
