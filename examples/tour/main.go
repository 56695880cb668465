// Command tour is a guided tour of m2mauth: it starts the embedded Clerk
// emulator and a service protected by the net/http adapter — a route for M2M
// tokens, one for API keys with a required scope, one for OAuth access
// tokens — then walks through the cases that matter, printing for each the
// HTTP status the caller got and how many verify calls reached Clerk so far:
//
//	go run ./examples/tour
//
// It exits with status 1 if any step misbehaves, so it doubles as an
// end-to-end test.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	"github.com/m2mauth/m2mauth/adapters/m2mhttp"
	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/middleware"
	"github.com/m2mauth/m2mauth/verifier"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "tour:", err)
		os.Exit(1)
	}
}

// A step is one stop of the tour.
type step struct {
	title      string
	setup      func() error // optional, runs before the request(s)
	path       string       // default /api/whoami (M2M tokens)
	token      func() string
	concurrent int   // >1: send that many requests at once; all must agree
	wantStatus int   // the status every request must get
	newCalls   int64 // verify calls this step must add; -1: at least one
	wantRetry  bool  // a Retry-After header is required
}

func run(ctx context.Context, out io.Writer) error {
	clerk := clerktest.NewServer()
	defer clerk.Close()
	receiver := clerk.CreateMachine("reports-service")
	caller := clerk.CreateMachine("billing-worker", receiver.ID)
	elsewhere := clerk.CreateMachine("search-service")
	stranger := clerk.CreateMachine("search-indexer", elsewhere.ID)

	// An instance key (sk_…): Clerk does not check scopes, WithAudience does.
	v, err := verifier.New(clerk.SecretKey, verifier.WithBaseURL(clerk.URL))
	if err != nil {
		return err
	}
	defer v.Close()
	auth, err := middleware.New(v, middleware.WithAudience(receiver.ID))
	if err != nil {
		return err
	}
	// The same verifier for API keys (with a scope) and OAuth access tokens:
	// each route says which kinds it accepts.
	keys, err := middleware.New(v, middleware.WithAccept(verifier.KindAPIKey), middleware.WithRequiredScopes("exports:read"))
	if err != nil {
		return err
	}
	agents, err := middleware.New(v, middleware.WithAccept(verifier.KindOAuth), middleware.WithRequiredScopes("agent"))
	if err != nil {
		return err
	}
	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, _ := m2mhttp.Token(r)
		fmt.Fprintf(w, "hello %s (%s)\n", tok.Subject, tok.Kind)
	})
	mux := http.NewServeMux()
	mux.Handle("GET /api/whoami", m2mhttp.Middleware(auth)(hello))
	mux.Handle("GET /api/exports", m2mhttp.Middleware(keys)(hello))
	mux.Handle("GET /api/agent", m2mhttp.Middleware(agents)(hello))
	svc := httptest.NewServer(mux)
	defer svc.Close()
	client := svc.Client()
	verifyCalls := func() int64 { // every kind's verify endpoint
		return clerk.Calls(clerktest.EndpointVerify) + clerk.Calls(clerktest.EndpointAPIKeyVerify) + clerk.Calls(clerktest.EndpointOAuthVerify)
	}

	const user = "user_2xhFjEI5X2qWRvtV13BzSj8H6Dk"
	secrets := map[string]string{} // API keys and OAuth tokens by name
	apiKey := func(name string, scopes ...string) func() error {
		return func() error {
			k, err := clerk.CreateAPIKey(clerktest.APIKeyParams{Name: "nightly export", Subject: user, Scopes: scopes})
			if err == nil {
				secrets[name] = k.Secret
			}
			return err
		}
	}
	app := clerk.CreateOAuthApplication("assistant")
	oauth := func(name string, format clerkapi.TokenFormat) func() error {
		return func() error {
			t, err := clerk.CreateOAuthAccessToken(clerktest.OAuthAccessTokenParams{UserID: user, ClientID: app.ClientID, Scopes: []string{"agent"}, Format: format})
			secrets[name] = t
			return err
		}
	}
	secret := func(name string) func() string { return func() string { return secrets[name] } }

	tokens := map[string]*clerkapi.M2MToken{}
	mint := func(name string, m *clerktest.Machine) error {
		t, err := clerk.CreateToken(m.ID, clerkapi.CreateParams{})
		tokens[name] = t
		return err
	}
	value := func(name string) func() string { return func() string { return tokens[name].Token } }

	fmt.Fprintf(out, "Clerk emulator %s; service %s (machine %s) behind m2mhttp, verifier cache TTL 60s\n\n", clerk.URL, svc.URL, receiver.ID)
	steps := []step{
		{title: "a valid token", setup: func() error { return mint("first", caller) },
			token: value("first"), wantStatus: 200, newCalls: 1},
		{title: "the same token again: served from the verifier's cache",
			token: value("first"), wantStatus: 200, newCalls: 0},
		{title: "200 concurrent requests with a new token: one call (singleflight)", setup: func() error { return mint("second", caller) },
			token: value("second"), concurrent: 200, wantStatus: 200, newCalls: 1},
		{title: "a garbage token: refused locally, Clerk not asked",
			token: func() string { return "not-a-clerk-token" }, wantStatus: 401, newCalls: 0},
		{title: "the first token, revoked at Clerk: still cached, still accepted", setup: func() error { return clerk.RevokeToken(tokens["first"].ID, "compromised") },
			token: value("first"), wantStatus: 200, newCalls: 0},
		{title: "the same, after verifier.InvalidateID(its ID): refused", setup: func() error { v.InvalidateID(tokens["first"].ID); return nil },
			token: value("first"), wantStatus: 401, newCalls: 1},
		{title: "a valid token not scoped to this service (WithAudience)", setup: func() error { return mint("stranger", stranger) },
			token: value("stranger"), wantStatus: 403, newCalls: 1},
		{title: "Clerk down (503s): a new token gets 503 + Retry-After", setup: func() error {
			clerk.InjectOn(clerktest.EndpointVerify, clerktest.FailNext(1<<20, http.StatusServiceUnavailable))
			return mint("third", caller)
		}, token: value("third"), wantStatus: 503, newCalls: -1, wantRetry: true},
		{title: "Clerk down: a cached token is still served",
			token: value("second"), wantStatus: 200, newCalls: 0},
		{title: "Clerk back: the new token now passes (failures were not cached)", setup: func() error { clerk.ClearFaults(); return nil },
			token: value("third"), wantStatus: 200, newCalls: 1},

		{title: "an API key with the scope exports:read on /api/exports", setup: apiKey("export", "exports:read"),
			path: "/api/exports", token: secret("export"), wantStatus: 200, newCalls: 1},
		{title: "the same API key on the M2M route: refused, Clerk not asked",
			token: secret("export"), wantStatus: 401, newCalls: 0},
		{title: "an API key without the scope: 403, the scope named", setup: apiKey("reader", "exports:list"),
			path: "/api/exports", token: secret("reader"), wantStatus: 403, newCalls: 1},
		{title: "an M2M token on the API-key route: refused, Clerk not asked",
			path: "/api/exports", token: value("second"), wantStatus: 401, newCalls: 0},
		{title: "an opaque OAuth access token (oat_…) on /api/agent", setup: oauth("oat", clerkapi.FormatOpaque),
			path: "/api/agent", token: secret("oat"), wantStatus: 200, newCalls: 1},
		{title: "a JWT OAuth access token: verified locally, Clerk not asked", setup: oauth("jwt", clerkapi.FormatJWT),
			path: "/api/agent", token: secret("jwt"), wantStatus: 200, newCalls: 0},
		{title: "the opaque one revoked, then verifier.Invalidate(it): refused", setup: func() error {
			if err := clerk.RevokeOAuthAccessToken(secrets["oat"]); err != nil {
				return err
			}
			v.Invalidate(secrets["oat"])
			return nil
		}, path: "/api/agent", token: secret("oat"), wantStatus: 401, newCalls: 1},
	}

	var failed []string
	for i, s := range steps {
		if s.setup != nil {
			if err := s.setup(); err != nil {
				return fmt.Errorf("step %d set-up: %w", i+1, err)
			}
		}
		before := verifyCalls()
		path := s.path
		if path == "" {
			path = "/api/whoami"
		}
		status, retry, err := send(ctx, client, svc.URL+path, s.token(), max(s.concurrent, 1))
		if err != nil {
			return fmt.Errorf("step %d: %w", i+1, err)
		}
		calls := verifyCalls()
		var why []string
		if status != s.wantStatus {
			why = append(why, fmt.Sprintf("status %d, want %d", status, s.wantStatus))
		}
		if added := calls - before; (s.newCalls >= 0 && added != s.newCalls) || (s.newCalls < 0 && added < 1) {
			why = append(why, fmt.Sprintf("%d new verify calls, want %s", added, wantCalls(s.newCalls)))
		}
		if s.wantRetry && retry == "" {
			why = append(why, "no Retry-After")
		}
		extra := ""
		if retry != "" {
			extra = "  Retry-After: " + retry
		}
		mark := "ok"
		if len(why) > 0 {
			mark = "FAIL: " + strings.Join(why, "; ")
			failed = append(failed, fmt.Sprintf("step %d (%s)", i+1, mark))
		}
		fmt.Fprintf(out, "%2d. %-70s -> %d  verify calls: %d%s  [%s]\n", i+1, s.title, status, calls, extra, mark)
	}
	if len(failed) > 0 {
		return errors.New(strings.Join(failed, ", "))
	}
	fmt.Fprintln(out, "\nAll steps behaved.")
	return nil
}

func wantCalls(n int64) string {
	if n < 0 {
		return "at least 1"
	}
	return fmt.Sprint(n)
}

// send makes n concurrent GETs of url with the bearer token and returns the status
// they all got (an error if they disagree) and the last Retry-After.
func send(ctx context.Context, client *http.Client, url, token string, n int) (int, string, error) {
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		statuses = map[int]int{}
		retry    string
		firstErr error
	)
	for range n {
		wg.Go(func() {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			if err == nil {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			var res *http.Response
			if err == nil {
				res, err = client.Do(req)
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				return
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			statuses[res.StatusCode]++
			if ra := res.Header.Get("Retry-After"); ra != "" {
				retry = ra
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return 0, "", firstErr
	}
	if len(statuses) != 1 {
		return 0, "", fmt.Errorf("concurrent requests disagree: %v", statuses)
	}
	for st := range statuses {
		return st, retry, nil
	}
	return 0, "", errors.New("no request sent")
}
