// Command production is the example service with the operations wiring a
// deployment needs, around the routes of examples/nethttp (the quick start):
//
//   - GET /healthz is public; GET /api/whoami needs a valid M2M token scoped
//     to this service; GET /api/reports also needs the claim
//     {"role":"reporter"} (middleware.WithCheck); GET /api/exports takes
//     Clerk API keys instead, with the scope exports:read
//     (middleware.WithAccept, WithRequiredScopes; with the Clerk secret key
//     only: a machine key cannot verify API keys, and the route is not
//     served);
//   - GET /readyz is the readiness probe (503 while the key is refused or
//     Clerk unreachable: Verifier.Ready) and GET /metrics serves the
//     Prometheus metrics (metrics/m2mprom), both unauthenticated: keep
//     /metrics on a private address or behind the scraper's network policy;
//   - with REDIS_URL, the cache is shared with every replica over Redis
//     (cache/rediscache): one call to Clerk per token for all of them, and
//     revocations and Clerk's back-off reach every one;
//   - with DEBUG_ADDR, a second, private listener serves net/http/pprof and
//     the operator's POST /debug/m2mauth/invalidate?id=mt_…
//     (Verifier.InvalidateID, on every replica with REDIS_URL);
//   - SIGINT or SIGTERM shuts it down gracefully.
//
// scripts/clustertest.sh and scripts/floodtest.sh run it. With no
// CLERK_SECRET_KEY / CLERK_MACHINE_SECRET_KEY it starts the embedded Clerk
// emulator and prints a ready token and curl lines:
//
//	go run ./examples/production
//
// Environment:
//
//	CLERK_SECRET_KEY          the instance's Clerk secret key (sk_…); needs M2M_AUDIENCE
//	CLERK_MACHINE_SECRET_KEY  or this service's machine secret key (ak_…)
//	CLERK_API_URL             Clerk's Backend API base URL (default https://api.clerk.com/v1)
//	M2M_AUDIENCE              this service's machine ID (mch_…)
//	ADDR                      the listen address (default 127.0.0.1:8080)
//	REDIS_URL                 if set (redis://host:port/db), the cache is shared with every replica over Redis
//	M2M_CALL_RATE             if set, the overall budget of calls to Clerk per second (verifier.Limits.CallRate);
//	M2M_CALL_BURST            and its burst (Limits.CallBurst): keep burst + 10 × rate under Clerk's limit per 10 s
//	DEBUG_ADDR                if set, net/http/pprof on this separate, private address, and
//	                          POST /debug/m2mauth/invalidate?id=mt_… (Verifier.InvalidateID)
package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	_ "net/http/pprof" // served on DEBUG_ADDR only, never on the service's port
	"os"
	"os/signal"
	"regexp"
	"strconv"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/m2mauth/m2mauth/adapters/m2mhttp"
	"github.com/m2mauth/m2mauth/cache/rediscache"
	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/metrics/m2mprom"
	"github.com/m2mauth/m2mauth/middleware"
	"github.com/m2mauth/m2mauth/verifier"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Getenv, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "production:", err)
		os.Exit(1)
	}
}

// run serves until ctx ends, then shuts down gracefully. getenv reads the
// configuration (os.Getenv in main).
func run(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	key := cmp.Or(getenv("CLERK_SECRET_KEY"), getenv("CLERK_MACHINE_SECRET_KEY"))
	apiURL := cmp.Or(getenv("CLERK_API_URL"), clerkapi.DefaultBaseURL)
	audience := getenv("M2M_AUDIENCE")
	addr := cmp.Or(getenv("ADDR"), "127.0.0.1:8080")

	token, apiKey := "$M2M_TOKEN", "$API_KEY" // for the curl lines printed below
	if key == "" {
		// No Clerk key: try it out against an in-process Clerk emulator.
		demo, err := clerktest.StartDemo(stdout, map[string]string{"role": "reporter"})
		if err != nil {
			return err
		}
		defer demo.Close()
		key, apiURL, audience, token = demo.SecretKey, demo.URL, demo.Receiver.ID, demo.Token
		k, err := demo.CreateAPIKey(clerktest.APIKeyParams{Name: "nightly export", Subject: "user_2xhFjEI5X2qWRvtV13BzSj8H6Dk",
			Scopes: []string{"exports:read"}})
		if err != nil {
			return err
		}
		apiKey = k.Secret
	}

	obs, err := m2mprom.NewObserver() // latency histograms of misses and Clerk calls
	if err != nil {
		return err
	}
	vopts := []verifier.Option{verifier.WithBaseURL(apiURL), verifier.WithObserver(obs)}
	budget, err := callBudget(getenv)
	if err != nil {
		return err
	}
	vopts = append(vopts, verifier.WithLimits(budget))
	if u := getenv("REDIS_URL"); u != "" {
		// Many replicas: one call to Clerk per token for all of them, and
		// revocations and Clerk's back-off reach every one (see the README).
		sc, rdb, err := rediscache.NewFromURL(u)
		if err != nil {
			return err
		}
		defer rdb.Close() // after v.Close
		vopts = append(vopts, verifier.WithSharedCache(sc))
	}
	v, err := verifier.New(key, vopts...)
	if err != nil {
		return err
	}
	defer v.Close()
	metrics, err := metricsHandler(v, obs)
	if err != nil {
		return err
	}

	// Any valid token scoped to this service; with a Clerk secret key (sk_…)
	// the audience is what keeps other services' tokens out.
	auth, err := middleware.New(v, middleware.WithAudience(audience))
	if err != nil {
		return err
	}
	// The same, and the claim {"role":"reporter"}.
	reporters, err := middleware.New(v, middleware.WithAudience(audience), middleware.WithCheck(requireRole("reporter")))
	if err != nil {
		return err
	}

	debugBase := ""
	if debugAddr := getenv("DEBUG_ADDR"); debugAddr != "" {
		dln, err := net.Listen("tcp", debugAddr)
		if err != nil {
			return err
		}
		defer dln.Close()
		debugBase = "http://" + dln.Addr().String()
		dmux := http.NewServeMux()
		dmux.Handle("/debug/pprof/", http.DefaultServeMux) // pprof registered itself there
		dmux.HandleFunc("POST /debug/m2mauth/invalidate", invalidate(v))
		go func() { _ = http.Serve(dln, dmux) }()
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", healthz)
	mux.HandleFunc("GET /readyz", readyz(v))
	mux.Handle("GET /metrics", metrics)
	mux.Handle("GET /api/whoami", m2mhttp.Middleware(auth)(http.HandlerFunc(whoami)))
	mux.Handle("GET /api/reports", m2mhttp.Middleware(reporters)(http.HandlerFunc(reports)))
	if v.Verifies(verifier.KindAPIKey) { // the Clerk secret key, not a machine key
		// Clerk API keys, not M2M tokens, with the scope exports:read.
		exporters, err := middleware.New(v, middleware.WithAccept(verifier.KindAPIKey), middleware.WithRequiredScopes("exports:read"))
		if err != nil {
			return err
		}
		mux.Handle("GET /api/exports", m2mhttp.Middleware(exporters)(http.HandlerFunc(exports)))
	}

	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(stdout, "Try:\n  curl %s/healthz\n  curl %s/readyz\n  curl %s/metrics\n", base, base, base)
	fmt.Fprintf(stdout, "  curl -H 'Authorization: Bearer %s' %s/api/whoami\n", token, base)
	fmt.Fprintf(stdout, "  curl -H 'Authorization: Bearer %s' %s/api/reports\n", token, base)
	if v.Verifies(verifier.KindAPIKey) {
		fmt.Fprintf(stdout, "  curl -H 'Authorization: Bearer %s' %s/api/exports\n", apiKey, base)
	}
	if debugBase != "" {
		fmt.Fprintf(stdout, "  curl %s/debug/pprof/\n  curl -X POST '%s/debug/m2mauth/invalidate?id=mt_…'\n", debugBase, debugBase)
	}
	fmt.Fprintf(stdout, "Listening on %s\n", base) // the last line: ready

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = srv.Shutdown(shutdownCtx) // lets requests in flight finish
	<-served                        // http.ErrServerClosed
	return err
}

func healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 {"status":"ready"} while v can verify tokens, else 503
// {"status":"misconfigured"} or {"status":"unavailable"}: v.Ready probes
// Clerk at most once 5 s, however often it is asked.
func readyz(v *verifier.Verifier) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := v.Ready(r.Context()); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": string(verifier.OutcomeOf(err))})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	}
}

// metricsHandler serves v's metrics, obs's histograms and the Go runtime's
// in Prometheus's format, from a registry of its own.
func metricsHandler(v *verifier.Verifier, obs *m2mprom.Observer) (http.Handler, error) {
	c, err := m2mprom.NewCollector(v, m2mprom.WithObserver(obs))
	if err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	if err := reg.Register(c); err != nil {
		return nil, err
	}
	if err := reg.Register(collectors.NewGoCollector()); err != nil {
		return nil, err
	}
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), nil
}

// whoAmI is the answer of GET /api/whoami: who called (never the token itself).
type whoAmI struct {
	Subject   string          `json:"subject"` // the calling machine, mch_…
	Scopes    []string        `json:"scopes"`  // the machines it may call
	Claims    json.RawMessage `json:"claims"`  // its custom claims, or null
	TokenID   string          `json:"token_id"`
	Format    string          `json:"format"` // opaque or jwt
	ExpiresAt time.Time       `json:"expires_at,omitzero"`
}

func whoami(w http.ResponseWriter, r *http.Request) {
	tok, ok := m2mhttp.Token(r)
	if !ok { // only without the middleware in front: fail closed
		http.Error(w, "not authenticated", http.StatusInternalServerError)
		return
	}
	writeJSON(w, http.StatusOK, whoAmI{
		Subject: tok.Subject, Scopes: tok.Scopes, Claims: tok.Claims, TokenID: tok.ID, Format: string(tok.Format), ExpiresAt: tok.ExpiresAt,
	})
}

func reports(w http.ResponseWriter, r *http.Request) {
	tok, ok := m2mhttp.Token(r)
	if !ok {
		http.Error(w, "not authenticated", http.StatusInternalServerError)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"for": tok.Subject, "reports": []string{"2026-q3-usage", "2026-q3-billing"}})
}

// callBudget reads M2M_CALL_RATE and M2M_CALL_BURST: the overall budget of
// calls to Clerk (zero fields when unset: the verifier's defaults).
func callBudget(getenv func(string) string) (verifier.Limits, error) {
	var l verifier.Limits
	if v := getenv("M2M_CALL_RATE"); v != "" {
		r, err := strconv.ParseFloat(v, 64)
		if err != nil || r <= 0 {
			return l, fmt.Errorf("M2M_CALL_RATE: want calls per second, got %q", v)
		}
		l.CallRate = r
	}
	if v := getenv("M2M_CALL_BURST"); v != "" {
		b, err := strconv.Atoi(v)
		if err != nil || b <= 0 {
			return l, fmt.Errorf("M2M_CALL_BURST: want a number of calls, got %q", v)
		}
		l.CallBurst = b
	}
	return l, nil
}

// exports answers GET /api/exports, for an API key: whose key it is.
func exports(w http.ResponseWriter, r *http.Request) {
	tok, ok := m2mhttp.Token(r)
	if !ok {
		http.Error(w, "not authenticated", http.StatusInternalServerError)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"for": tok.Subject, "key": tok.Name, "scopes": tok.Scopes,
		"exports": []string{"2026-11-orders.csv"}})
}

// requireRole refuses (403) a token whose claim "role" is not role.
func requireRole(role string) middleware.Check {
	return func(_ context.Context, t *verifier.Token) error {
		var claims struct {
			Role string `json:"role"`
		}
		if err := t.DecodeClaims(&claims); err != nil || claims.Role != role {
			return middleware.Forbidden("claim role=" + role + " required")
		}
		return nil
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// tokenIDRE matches Clerk's M2M token IDs.
var tokenIDRE = regexp.MustCompile(`^mt_[0-9A-Fa-f]{32}$`)

// invalidate is the operator's POST /debug/m2mauth/invalidate?id=mt_…: the
// Verifier forgets the token (on every replica with REDIS_URL), so that the
// next request with it asks Clerk and sees a revocation. It takes the
// token's ID (mt_ and 32 hex digits), never the token: a bearer secret has no
// place in a URL. Private address only.
func invalidate(v *verifier.Verifier) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Query().Get("id")
		if !tokenIDRE.MatchString(id) {
			http.Error(w, "want ?id=mt_ and 32 hex digits: the token's ID, not the token", http.StatusBadRequest)
			return
		}
		v.InvalidateID(id)
		w.WriteHeader(http.StatusNoContent)
	}
}
