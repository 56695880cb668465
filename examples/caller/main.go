// Command caller is a calling machine: it sends requests to a service protected
// by Clerk M2M tokens through an m2mclient.Transport, which creates one token,
// reuses it for every request and replaces it ahead of its expiry, and reports
// how many requests it made and how many tokens it had to create.
//
// Environment:
//
//	CLERK_MACHINE_SECRET_KEY  the calling machine's secret key (ak_…)
//	CLERK_API_URL             Clerk's Backend API base URL (default https://api.clerk.com/v1)
//	TARGET_URL                the protected service to call
//	REQUESTS                  how many requests to make (default 1000)
//
// Without CLERK_MACHINE_SECRET_KEY it starts an embedded Clerk emulator with a
// caller machine scoped to a receiver machine, and a small service protected
// as the receiver, and calls that:
//
//	$ go run ./examples/caller
//	no CLERK_MACHINE_SECRET_KEY: using an embedded Clerk emulator and a protected service at http://127.0.0.1:…
//	made 1000 requests, created 1 token, 0 failures
//	the protected service asked Clerk to verify 1 time
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/m2mclient"
)

// workers is how many requests are in flight at once.
const workers = 8

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Getenv, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "caller:", err)
		os.Exit(1)
	}
}

// run makes the requests and prints the tally. getenv reads the configuration.
func run(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	key, apiURL, target := getenv("CLERK_MACHINE_SECRET_KEY"), getenv("CLERK_API_URL"), getenv("TARGET_URL")
	n := 1000
	if s := getenv("REQUESTS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			return fmt.Errorf("REQUESTS=%q: want a positive integer", s)
		}
		n = v
	}
	switch {
	case key == "" && target != "":
		return errors.New("TARGET_URL is set but CLERK_MACHINE_SECRET_KEY is not: the embedded emulator's tokens would mean nothing to that service")
	case key == "":
		env, err := startEmbedded()
		if err != nil {
			return err
		}
		defer env.Close()
		defer func() {
			n := env.clerk.Calls(clerktest.EndpointVerify)
			fmt.Fprintf(stdout, "the protected service asked Clerk to verify %d %s\n", n, plural(n, "time"))
		}()
		key, apiURL, target = env.callerKey, env.apiURL, env.targetURL
		fmt.Fprintf(stdout, "no CLERK_MACHINE_SECRET_KEY: using an embedded Clerk emulator and a protected service at %s\n", target)
	case target == "":
		return errors.New("TARGET_URL is not set")
	}

	var opts []m2mclient.Option
	if apiURL != "" {
		opts = append(opts, m2mclient.WithBaseURL(apiURL))
	}
	ts, err := m2mclient.NewTokenSource(key, opts...)
	if err != nil {
		return err
	}
	base := &http.Transport{MaxIdleConnsPerHost: workers}
	defer base.CloseIdleConnections()
	client := m2mclient.NewClient(ts, base)

	failures, firstErr := call(ctx, client, target, n)
	created := ts.Stats().Creates
	fmt.Fprintf(stdout, "made %d requests, created %d %s, %d failures\n", n, created, plural(created, "token"), failures)
	if failures > 0 {
		return fmt.Errorf("%d of %d requests failed; first: %w", failures, n, firstErr)
	}
	return nil
}

// call sends n GET requests to target from a few goroutines and counts the
// ones that failed or were not answered 2xx.
func call(ctx context.Context, client *http.Client, target string, n int) (failures int64, first error) {
	var next, failed atomic.Int64
	var once sync.Once
	fail := func(err error) {
		failed.Add(1)
		once.Do(func() { first = err })
	}
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
				if err != nil {
					fail(err)
					continue
				}
				resp, err := client.Do(req)
				if err != nil {
					fail(err)
					continue
				}
				io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
				resp.Body.Close()
				if resp.StatusCode < 200 || resp.StatusCode > 299 {
					fail(fmt.Errorf("%s answered %s (WWW-Authenticate: %s)", target, resp.Status, resp.Header.Get("WWW-Authenticate")))
				}
			}
		})
	}
	wg.Wait()
	return failed.Load(), first
}

func plural(n int64, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
