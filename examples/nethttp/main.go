// Command nethttp is the quick start: a net/http service protected by
// m2mauth. GET /healthz is public; GET /api/whoami needs an M2M token scoped
// to this service. examples/production adds metrics, readiness, Redis, pprof.
// Without a Clerk key it starts the embedded Clerk emulator and prints a
// ready token and curl lines (go run ./examples/nethttp). Environment:
//
//	CLERK_SECRET_KEY          the instance's Clerk secret key (sk_…); needs M2M_AUDIENCE
//	CLERK_MACHINE_SECRET_KEY  or this service's machine secret key (ak_…)
//	CLERK_API_URL             Clerk's Backend API base URL (default https://api.clerk.com/v1)
//	M2M_AUDIENCE              this service's machine ID (mch_…)
//	ADDR                      the listen address (default 127.0.0.1:8080)
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

	"github.com/m2mauth/m2mauth/adapters/m2mhttp"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/middleware"
	"github.com/m2mauth/m2mauth/verifier"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "nethttp:", err)
		os.Exit(1)
	}
}

// run serves until ctx ends, then shuts down gracefully.
func run(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	key := cmp.Or(getenv("CLERK_SECRET_KEY"), getenv("CLERK_MACHINE_SECRET_KEY"))
	apiURL, audience, token := getenv("CLERK_API_URL"), getenv("M2M_AUDIENCE"), "$M2M_TOKEN"
	if key == "" { // no key: an in-process Clerk emulator and a ready token
		demo, err := clerktest.StartDemo(stdout, nil)
		if err != nil {
			return err
		}
		defer demo.Close()
		key, apiURL, audience, token = demo.SecretKey, demo.URL, demo.Receiver.ID, demo.Token
	}
	v, err := verifier.New(key, verifier.WithBaseURL(apiURL))
	if err != nil {
		return err
	}
	defer v.Close()
	// Tokens scoped to this service only (required with an sk_ key).
	auth, err := middleware.New(v, middleware.WithAudience(audience))
	if err != nil {
		return err
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, `{"status":"ok"}`) })
	mux.Handle("GET /api/whoami", m2mhttp.Middleware(auth)(http.HandlerFunc(whoami)))
	ln, err := net.Listen("tcp", cmp.Or(getenv("ADDR"), "127.0.0.1:8080"))
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(stdout, "Try:\n  curl %s/healthz\n  curl -H 'Authorization: Bearer %s' %s/api/whoami\n", base, token, base)
	fmt.Fprintf(stdout, "Listening on %s\n", base) // the last line: ready
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
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

// whoami answers who called (never the token itself).
func whoami(w http.ResponseWriter, r *http.Request) {
	tok, ok := m2mhttp.Token(r)
	if !ok { // only without the middleware in front: fail closed
		http.Error(w, "not authenticated", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"subject": tok.Subject, "scopes": tok.Scopes,
		"claims": tok.Claims, "token_id": tok.ID, "format": tok.Format, "expires_at": tok.ExpiresAt})
}
