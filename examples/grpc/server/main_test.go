package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/examples/grpc/whoami"
	"github.com/m2mauth/m2mauth/middleware"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// output collects what run prints and hands over the address of its
// "Listening on <addr>" line, so that the test waits for it without sleeping.
type output struct {
	mu        sync.Mutex
	buf       bytes.Buffer
	listening chan string
	sent      bool
}

var listeningRE = regexp.MustCompile(`(?m)^Listening on (\S+)\n`)

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.buf.Write(p)
	if m := listeningRE.FindSubmatch(o.buf.Bytes()); m != nil && !o.sent {
		o.sent = true
		o.listening <- string(m[1])
	}
	return len(p), nil
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// start runs the server with env and returns its output, a connection to it
// and a function that stops it and returns run's error (called at the end of
// the test if not before).
func start(t *testing.T, env map[string]string) (*output, *grpc.ClientConn, func() error) {
	t.Helper()
	out := &output{listening: make(chan string, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, func(k string) string { return env[k] }, out) }()
	var addr string
	select {
	case addr = <-out.listening:
	case err := <-done:
		cancel()
		t.Fatalf("run returned %v before listening; output:\n%s", err, out.String())
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	stop := sync.OnceValue(func() error {
		_ = conn.Close()
		cancel()
		return <-done
	})
	t.Cleanup(func() { _ = stop() }) // when the test stops early
	return out, conn, stop
}

// call checks the service's answers: health without a token, Whoami without
// one, with a bad one and with token (whose subject is subject).
func call(t *testing.T, conn *grpc.ClientConn, token, subject string) {
	t.Helper()
	h, err := healthpb.NewHealthClient(conn).Check(t.Context(), &healthpb.HealthCheckRequest{})
	if err != nil || h.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("health: got (%v, %v), want SERVING", h.GetStatus(), err)
	}
	for _, tc := range []struct {
		name, auth string
		want       codes.Code
	}{
		{"no token", "", codes.Unauthenticated},
		{"unknown token", "Bearer mt_" + strings.Repeat("z", 32), codes.Unauthenticated},
		{"valid token", "Bearer " + token, codes.OK},
	} {
		ctx := t.Context()
		if tc.auth != "" {
			ctx = metadata.AppendToOutgoingContext(ctx, "authorization", tc.auth)
		}
		who, err := whoami.Call(ctx, conn)
		if status.Code(err) != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
		if err == nil && who.Fields["subject"].GetStringValue() != subject {
			t.Errorf("%s: got subject %q, want %q", tc.name, who.Fields["subject"].GetStringValue(), subject)
		}
	}
}

var (
	tokenRE  = regexp.MustCompile(`the caller's token \([^)]*\): +(mt_\w+)`)
	callerRE = regexp.MustCompile(`caller machine \(scoped to the receiver\): +(mch_\w+)`)
)

// TestRunEmbedded: with no key the server starts the emulator and prints a
// token that passes; the audit and the Debug refusal lines never hold a
// token.
func TestRunEmbedded(t *testing.T) {
	out, conn, stop := start(t, map[string]string{"ADDR": "127.0.0.1:0", "LOG_LEVEL": "debug"})
	printed := out.String()
	tok, caller := tokenRE.FindStringSubmatch(printed), callerRE.FindStringSubmatch(printed)
	if tok == nil || caller == nil {
		t.Fatalf("got output\n%s\nwant the caller's machine ID and token", printed)
	}
	call(t, conn, tok[1], caller[1])
	if err := stop(); err != nil {
		t.Errorf("run: %v", err)
	}
	logs := strings.SplitAfter(out.String(), "Listening on")[1]
	if strings.Contains(logs, tok[1]) || strings.Contains(logs, strings.Repeat("z", 32)) {
		t.Errorf("got logs\n%s\nwant no token in them", logs)
	}
	for _, want := range []string{`msg="rpc authenticated" method=/m2mauth.example.Whoami/Whoami subject=` + caller[1],
		`level=DEBUG msg="m2mauth: request refused" status=401 error=missing_token`,
		`level=DEBUG msg="m2mauth: request refused" status=401 error=invalid_token`} {
		if !strings.Contains(logs, want) {
			t.Errorf("got logs\n%s\nwant a line with %s", logs, want)
		}
	}
	if strings.Contains(printed, "sk_") || strings.Contains(printed, "ak_") {
		t.Errorf("got output\n%s\nwant no secret key in it", printed)
	}
}

// TestRunConfigured: against a Clerk (the emulator as a stand-in) with the
// instance's key and an audience, or with the service's machine key.
func TestRunConfigured(t *testing.T) {
	clerk := clerktest.NewServer()
	defer clerk.Close()
	receiver := clerk.CreateMachine("receiver")
	caller := clerk.CreateMachine("caller", receiver.ID)
	for _, tc := range []struct {
		name string
		env  map[string]string
	}{
		{"instance key", map[string]string{"CLERK_SECRET_KEY": clerk.SecretKey, "M2M_AUDIENCE": receiver.ID}},
		{"machine key", map[string]string{"CLERK_MACHINE_SECRET_KEY": receiver.SecretKey}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.env["CLERK_API_URL"], tc.env["ADDR"] = clerk.URL, "127.0.0.1:0"
			tok, err := clerk.CreateToken(caller.ID, clerkapi.CreateParams{})
			if err != nil {
				t.Fatal(err)
			}
			_, conn, stop := start(t, tc.env)
			call(t, conn, tok.Token, caller.ID)
			if err := stop(); err != nil {
				t.Errorf("run: %v", err)
			}
		})
	}
	// An instance key without an audience would let every machine in.
	err := run(t.Context(), func(k string) string {
		return map[string]string{"CLERK_SECRET_KEY": clerk.SecretKey, "CLERK_API_URL": clerk.URL, "ADDR": "127.0.0.1:0"}[k]
	}, &bytes.Buffer{})
	if !errors.Is(err, middleware.ErrNoAudience) {
		t.Errorf("sk_ without M2M_AUDIENCE: got %v, want ErrNoAudience", err)
	}
}

var opsRE = regexp.MustCompile(`Metrics and readiness: (http://\S+)/metrics`)

// TestRunMetrics: with METRICS_ADDR the server answers GET /readyz and GET
// /metrics over HTTP, and the metrics count the RPCs' verifications.
func TestRunMetrics(t *testing.T) {
	out, conn, stop := start(t, map[string]string{"ADDR": "127.0.0.1:0", "METRICS_ADDR": "127.0.0.1:0"})
	printed := out.String()
	ops, tok, caller := opsRE.FindStringSubmatch(printed), tokenRE.FindStringSubmatch(printed), callerRE.FindStringSubmatch(printed)
	if ops == nil || tok == nil || caller == nil {
		t.Fatalf("got output\n%s\nwant the metrics address, the caller and its token", printed)
	}
	call(t, conn, tok[1], caller[1])
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(ops[1] + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/readyz"); code != http.StatusOK {
		t.Errorf("GET /readyz: got %d %q, want 200", code, body)
	}
	code, body := get("/metrics")
	if code != http.StatusOK || !strings.Contains(body, "m2mauth_cache_misses_total 2") {
		t.Errorf("GET /metrics: got %d\n%s\nwant 200 with the verifier's counters (2 misses: the unknown and the valid token)", code, body)
	}
	if strings.Contains(body, tok[1]) || strings.Contains(body, caller[1]) {
		t.Errorf("got metrics holding the token or the subject")
	}
	if err := stop(); err != nil {
		t.Errorf("run: %v", err)
	}
}
