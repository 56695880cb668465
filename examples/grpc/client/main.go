// Command client calls the example gRPC service (../server) as a machine:
// an m2mclient.TokenSource creates M2M tokens with the machine's secret key
// and m2mgrpc.PerRPCCredentials puts the live one on every RPC.
//
// With no CLERK_MACHINE_SECRET_KEY it runs everything in one process: the
// embedded Clerk emulator, the service (verifying with the instance's key,
// its audience the receiver machine) and this client as the caller machine:
//
//	go run ./client
//
// Environment:
//
//	CLERK_MACHINE_SECRET_KEY  the calling machine's secret key (ak_…)
//	CLERK_API_URL             Clerk's Backend API base URL (default https://api.clerk.com/v1)
//	TARGET                    the service's address (default 127.0.0.1:50051)
//	INSECURE_LOOPBACK         1: plaintext to a loopback TARGET (default: TLS)
package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/m2mauth/m2mauth/adapters/m2mgrpc"
	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/examples/grpc/whoami"
	"github.com/m2mauth/m2mauth/m2mclient"
	"github.com/m2mauth/m2mauth/middleware"
	"github.com/m2mauth/m2mauth/verifier"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Getenv, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "client:", err)
		os.Exit(1)
	}
}

// run makes the example's calls and prints what it got.
func run(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	key := getenv("CLERK_MACHINE_SECRET_KEY")
	apiURL := cmp.Or(getenv("CLERK_API_URL"), clerkapi.DefaultBaseURL)
	target := cmp.Or(getenv("TARGET"), "127.0.0.1:50051")
	plaintext := getenv("INSECURE_LOOPBACK") == "1"
	if key == "" {
		e, err := startEmbedded(stdout)
		if err != nil {
			return err
		}
		defer e.Close()
		key, apiURL, target, plaintext = e.callerKey, e.apiURL, e.target, true
	}

	ts, err := m2mclient.NewTokenSource(key, m2mclient.WithBaseURL(apiURL))
	if err != nil {
		return err
	}
	transport := credentials.NewTLS(nil)
	var opts []m2mgrpc.CredentialsOption
	if plaintext {
		transport = insecure.NewCredentials()
		opts = append(opts, m2mgrpc.AllowInsecureLoopback())
	}
	creds, err := m2mgrpc.NewPerRPCCredentials(ts, opts...)
	if err != nil {
		return err
	}
	conn, err := grpc.NewClient(target, grpc.WithTransportCredentials(transport), grpc.WithPerRPCCredentials(creds))
	if err != nil {
		return err
	}
	defer conn.Close()
	anonymous, err := grpc.NewClient(target, grpc.WithTransportCredentials(transport))
	if err != nil {
		return err
	}
	defer anonymous.Close()

	health, err := healthpb.NewHealthClient(anonymous).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		return fmt.Errorf("health: %w", err)
	}
	fmt.Fprintf(stdout, "health, without a token: %v\n", health.GetStatus())

	_, err = whoami.Call(ctx, anonymous)
	st := status.Convert(err)
	fmt.Fprintf(stdout, "Whoami without a token: %v: %s\n", st.Code(), st.Message())

	for i := range 2 {
		who, err := whoami.Call(ctx, conn)
		if err != nil {
			return fmt.Errorf("Whoami: %w", err)
		}
		fmt.Fprintf(stdout, "Whoami #%d with the caller's token: subject=%s token_id=%s\n",
			i+1, who.Fields["subject"].GetStringValue(), who.Fields["token_id"].GetStringValue())
	}
	s := ts.Stats()
	fmt.Fprintf(stdout, "token source: %+v\n", s)
	return nil
}

// embedded is a Clerk emulator and the example's service on a loopback
// listener, protected as its receiver machine.
type embedded struct {
	clerk    *clerktest.Server
	verifier *verifier.Verifier
	srv      *grpc.Server
	served   chan error

	callerKey, apiURL, target string
}

// startEmbedded starts the emulator with two machines — a caller scoped to a
// receiver — and the receiver's service, which verifies tokens with the
// instance's secret key, requires its own machine ID among their scopes and
// writes audit lines to stdout.
func startEmbedded(stdout io.Writer) (*embedded, error) {
	clerk := clerktest.NewServer()
	receiver := clerk.CreateMachine("receiver")
	caller := clerk.CreateMachine("caller", receiver.ID)
	e := &embedded{clerk: clerk, callerKey: caller.SecretKey, apiURL: clerk.URL}
	fail := func(err error) (*embedded, error) {
		e.Close()
		return nil, err
	}
	v, err := verifier.New(clerk.SecretKey, verifier.WithBaseURL(clerk.URL))
	if err != nil {
		return fail(err)
	}
	e.verifier = v
	logger := slog.New(slog.NewTextHandler(stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{} // stable lines
			}
			return a
		},
	}))
	auth, err := middleware.New(v, middleware.WithAudience(receiver.ID), middleware.WithOnSuccess(whoami.Audit(logger)))
	if err != nil {
		return fail(err)
	}
	e.srv, err = whoami.NewServer(auth)
	if err != nil {
		return fail(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fail(err)
	}
	e.target = ln.Addr().String()
	e.served = make(chan error, 1)
	go func() { e.served <- e.srv.Serve(ln) }()
	fmt.Fprintf(stdout, "embedded: emulator, service on %s (audience %s), caller %s\n", e.target, receiver.ID, caller.ID)
	return e, nil
}

// Close stops the service, the verifier and the emulator.
func (e *embedded) Close() {
	if e.srv != nil {
		e.srv.Stop()
		if e.served != nil {
			<-e.served
		}
	}
	if e.verifier != nil {
		e.verifier.Close()
	}
	e.clerk.Close()
}
