// Command gin is a small service protected by m2mauth with Gin: GET /healthz
// is public, GET /api/whoami needs a valid M2M token scoped to this service,
// GET /api/reports also needs the claim {"role":"reporter"}. It is
// examples/production written with Gin, with its GET /readyz (readiness
// probe) and GET /metrics (Prometheus, always served, unauthenticated),
// without its DEBUG_ADDR listener.
//
// With no CLERK_SECRET_KEY / CLERK_MACHINE_SECRET_KEY it starts the embedded
// Clerk emulator and prints a ready token and curl lines:
//
//	go run ./examples/gin
//
// Environment:
//
//	CLERK_SECRET_KEY          the instance's Clerk secret key (sk_…); needs M2M_AUDIENCE
//	CLERK_MACHINE_SECRET_KEY  or this service's machine secret key (ak_…)
//	CLERK_API_URL             Clerk's Backend API base URL (default https://api.clerk.com/v1)
//	M2M_AUDIENCE              this service's machine ID (mch_…)
//	ADDR                      the listen address (default 127.0.0.1:8080)
//	REDIS_URL                 if set (redis://host:port/db), the cache is shared with every replica over Redis
package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/m2mauth/m2mauth/adapters/m2mgin"
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
		fmt.Fprintln(os.Stderr, "gin:", err)
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

	token := "$M2M_TOKEN" // for the curl lines printed below
	if key == "" {
		// No Clerk key: try it out against an in-process Clerk emulator.
		demo, err := clerktest.StartDemo(stdout, map[string]string{"role": "reporter"})
		if err != nil {
			return err
		}
		defer demo.Close()
		key, apiURL, audience, token = demo.SecretKey, demo.URL, demo.Receiver.ID, demo.Token
	}

	obs, err := m2mprom.NewObserver() // latency histograms of misses and Clerk calls
	if err != nil {
		return err
	}
	vopts := []verifier.Option{verifier.WithBaseURL(apiURL), verifier.WithObserver(obs)}
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

	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(gin.Recovery())
	r.GET("/healthz", healthz)
	r.GET("/readyz", readyz(v))
	r.GET("/metrics", gin.WrapH(metrics))
	api := r.Group("/api")
	api.GET("/whoami", m2mgin.Middleware(auth), whoami)
	api.GET("/reports", m2mgin.Middleware(reporters), reports)

	srv := &http.Server{
		Handler:           r,
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

func healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// readyz answers 200 {"status":"ready"} while v can verify tokens, else 503
// {"status":"misconfigured"} or {"status":"unavailable"}: v.Ready probes
// Clerk at most once 5 s, however often it is asked.
func readyz(v *verifier.Verifier) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := v.Ready(c.Request.Context()); err != nil {
			c.JSON(http.StatusServiceUnavailable, gin.H{"status": string(verifier.OutcomeOf(err))})
			return
		}
		c.JSON(http.StatusOK, gin.H{"status": "ready"})
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

func whoami(c *gin.Context) {
	tok, ok := m2mgin.Token(c)
	if !ok { // only without the middleware in front: fail closed
		c.AbortWithStatusJSON(http.StatusInternalServerError, gin.H{"error": "not authenticated"})
		return
	}
	c.JSON(http.StatusOK, whoAmI{
		Subject: tok.Subject, Scopes: tok.Scopes, Claims: tok.Claims, TokenID: tok.ID, Format: string(tok.Format), ExpiresAt: tok.ExpiresAt,
	})
}

func reports(c *gin.Context) {
	tok, ok := m2mgin.Token(c)
	if !ok {
		c.AbortWithStatusJSON(http.StatusInternalServerError, gin.H{"error": "not authenticated"})
		return
	}
	c.JSON(http.StatusOK, gin.H{"for": tok.Subject, "reports": []string{"2026-q3-usage", "2026-q3-billing"}})
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
