package main

import (
	"bytes"
	"net"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/examples/grpc/whoami"
	"github.com/m2mauth/m2mauth/middleware"
	"github.com/m2mauth/m2mauth/verifier"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestRunEmbedded: with no key the client runs the emulator and the service
// in process and its calls get the expected answers.
func TestRunEmbedded(t *testing.T) {
	var out bytes.Buffer
	if err := run(t.Context(), func(string) string { return "" }, &out); err != nil {
		t.Fatalf("run: %v; output:\n%s", err, out.String())
	}
	got := out.String()
	for _, want := range []string{
		"health, without a token: SERVING\n",
		"Whoami without a token: Unauthenticated: missing_token: no bearer token\n",
		"Whoami #1 with the caller's token: subject=mch_",
		"Whoami #2 with the caller's token: subject=mch_",
		`msg="rpc authenticated" method=/m2mauth.example.Whoami/Whoami subject=mch_`,
		"token source: {Creates:1 ",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("got output\n%s\nwant it to contain %q", got, want)
		}
	}
	if strings.Contains(got, "ak_") || strings.Contains(got, "sk_") {
		t.Errorf("got output\n%s\nwant no secret key", got)
	}
}

// TestRunAgainstServer: given a machine key and a target, the client calls
// that service; without INSECURE_LOOPBACK it insists on TLS and fails
// against a plaintext server.
func TestRunAgainstServer(t *testing.T) {
	clerk := clerktest.NewServer()
	defer clerk.Close()
	receiver := clerk.CreateMachine("receiver")
	caller := clerk.CreateMachine("caller", receiver.ID)
	v, err := verifier.New(receiver.SecretKey, verifier.WithBaseURL(clerk.URL))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	auth, err := middleware.New(v)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := whoami.NewServer(auth)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() { srv.Stop(); <-served }()

	env := map[string]string{"CLERK_MACHINE_SECRET_KEY": caller.SecretKey, "CLERK_API_URL": clerk.URL,
		"TARGET": ln.Addr().String(), "INSECURE_LOOPBACK": "1"}
	var out bytes.Buffer
	if err := run(t.Context(), func(k string) string { return env[k] }, &out); err != nil {
		t.Fatalf("run: %v; output:\n%s", err, out.String())
	}
	if want := "Whoami #2 with the caller's token: subject=" + caller.ID; !strings.Contains(out.String(), want) {
		t.Errorf("got output\n%s\nwant %q", out.String(), want)
	}
	delete(env, "INSECURE_LOOPBACK")
	if err := run(t.Context(), func(k string) string { return env[k] }, &bytes.Buffer{}); err == nil {
		t.Error("TLS client against a plaintext server: got no error")
	}
}
