// Command server is a gRPC service protected by m2mauth: the method
// m2mauth.example.Whoami/Whoami needs a valid M2M token scoped to this
// service in the metadata "authorization: Bearer …"; the health service
// (grpc.health.v1.Health) is public. Every authenticated RPC is written as an
// audit line (middleware.WithOnSuccess); refusals are logged at Debug with
// LOG_LEVEL=debug (middleware.WithLogger), never with the token.
//
// With no CLERK_SECRET_KEY / CLERK_MACHINE_SECRET_KEY it starts the embedded
// Clerk emulator and prints a ready token:
//
//	go run ./server
//
// Call it with the example client (go run ./client, which also runs
// everything in one process when given no key).
//
// Environment:
//
//	CLERK_SECRET_KEY          the instance's Clerk secret key (sk_…); needs M2M_AUDIENCE
//	CLERK_MACHINE_SECRET_KEY  or this service's machine secret key (ak_…)
//	CLERK_API_URL             Clerk's Backend API base URL (default https://api.clerk.com/v1)
//	M2M_AUDIENCE              this service's machine ID (mch_…)
//	ADDR                      the listen address (default 127.0.0.1:50051)
//	TLS_CERT_FILE, TLS_KEY_FILE  serve TLS with this certificate (default: plaintext,
//	                          for loopback only: tokens are bearer secrets)
//	LOG_LEVEL                 debug also logs every refusal (default info)
//	METRICS_ADDR              if set, GET /metrics (Prometheus) and GET /readyz over HTTP on this address
package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/examples/grpc/whoami"
	"github.com/m2mauth/m2mauth/metrics/m2mprom"
	"github.com/m2mauth/m2mauth/middleware"
	"github.com/m2mauth/m2mauth/verifier"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Getenv, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}

// run serves until ctx ends, then stops gracefully. getenv reads the
// configuration (os.Getenv in main); logs and the start-up lines go to stdout.
// With METRICS_ADDR set it also serves GET /metrics and GET /readyz over HTTP
// on that address.
func run(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	key := cmp.Or(getenv("CLERK_SECRET_KEY"), getenv("CLERK_MACHINE_SECRET_KEY"))
	apiURL := cmp.Or(getenv("CLERK_API_URL"), clerkapi.DefaultBaseURL)
	audience := getenv("M2M_AUDIENCE")
	addr := cmp.Or(getenv("ADDR"), "127.0.0.1:50051")
	level := slog.LevelInfo
	if getenv("LOG_LEVEL") == "debug" {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stdout, &slog.HandlerOptions{Level: level}))

	if key == "" {
		// No Clerk key: try it out against an in-process Clerk emulator.
		demo, err := clerktest.StartDemo(stdout, nil)
		if err != nil {
			return err
		}
		defer demo.Close()
		key, apiURL, audience = demo.SecretKey, demo.URL, demo.Receiver.ID
	}

	obs, err := m2mprom.NewObserver() // latency histograms of misses and Clerk calls
	if err != nil {
		return err
	}
	v, err := verifier.New(key, verifier.WithBaseURL(apiURL), verifier.WithLogger(logger), verifier.WithObserver(obs))
	if err != nil {
		return err
	}
	defer v.Close()
	if metricsAddr := getenv("METRICS_ADDR"); metricsAddr != "" {
		stop, err := serveOps(metricsAddr, v, obs, stdout)
		if err != nil {
			return err
		}
		defer stop()
	}
	auth, err := middleware.New(v, middleware.WithAudience(audience),
		middleware.WithLogger(logger), middleware.WithOnSuccess(whoami.Audit(logger)))
	if err != nil {
		return err
	}

	var opts []grpc.ServerOption
	if cert, keyFile := getenv("TLS_CERT_FILE"), getenv("TLS_KEY_FILE"); cert != "" || keyFile != "" {
		creds, err := credentials.NewServerTLSFromFile(cert, keyFile)
		if err != nil {
			return err
		}
		opts = append(opts, grpc.Creds(creds))
	}
	srv, err := whoami.NewServer(auth, opts...)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Try (grpcurl; health and reflection need no token):\n  grpcurl -plaintext %s list\n  grpcurl -plaintext %s grpc.health.v1.Health/Check\n", ln.Addr(), ln.Addr())
	fmt.Fprintf(stdout, "Whoami needs metadata authorization: Bearer <token>, e.g. from a Go client (see ../client)\n")
	fmt.Fprintf(stdout, "Listening on %s\n", ln.Addr()) // the last start-up line: ready

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	stopped := make(chan struct{})
	go func() { srv.GracefulStop(); close(stopped) }() // lets RPCs in flight finish
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		srv.Stop()
		<-stopped
	}
	return <-served // nil after GracefulStop
}

// serveOps serves GET /metrics (Prometheus) and GET /readyz (v.Ready) over
// HTTP on addr, beside the gRPC port, until stop is called.
func serveOps(addr string, v *verifier.Verifier, obs *m2mprom.Observer, stdout io.Writer) (stop func(), err error) {
	c, err := m2mprom.NewCollector(v, m2mprom.WithObserver(obs))
	if err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	if err := reg.Register(c); err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := v.Ready(r.Context()); err != nil {
			http.Error(w, string(verifier.OutcomeOf(err)), http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "ready\n")
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() { defer close(done); _ = hs.Serve(ln) }()
	fmt.Fprintf(stdout, "Metrics and readiness: http://%s/metrics, http://%s/readyz\n", ln.Addr(), ln.Addr())
	return func() { _ = hs.Close(); <-done }, nil
}
