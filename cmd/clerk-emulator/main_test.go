package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/m2mauth/m2mauth/clerkapi"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestRunJSON starts the emulator on a free port, reads the start-up line,
// mints and verifies a token with the printed keys, then stops it.
func TestRunJSON(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, []string{"-addr", "127.0.0.1:0", "-json"}, pw, io.Discard)
		pw.Close()
		done <- err
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the first line: %v", err)
	}
	go io.Copy(io.Discard, pr)
	var info startup
	dec := json.NewDecoder(strings.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&info); err != nil {
		t.Fatalf("first line %q is not the start-up JSON: %v", line, err)
	}
	if !strings.HasPrefix(info.BaseURL, "http://127.0.0.1:") || !strings.HasSuffix(info.BaseURL, "/v1") ||
		!strings.HasPrefix(info.SecretKey, "sk_test_") || len(info.Machines) != 3 {
		t.Fatalf("got %+v, want a /v1 base URL, an sk_test_ key and three machines", info)
	}
	// The publishable key encodes the emulator's host:port as Clerk's do.
	pk, ok := strings.CutPrefix(info.PublishableKey, "pk_test_")
	host := strings.TrimSuffix(strings.TrimPrefix(info.BaseURL, "http://"), "/v1")
	if dec, err := base64.RawStdEncoding.DecodeString(pk); !ok || err != nil || string(dec) != host+"$" {
		t.Errorf("got publishable key %q, want pk_test_ + base64(%q)", info.PublishableKey, host+"$")
	}
	byName := map[string]machineInfo{}
	for _, m := range info.Machines {
		byName[m.Name] = m
	}
	caller, receiver, loner := byName["caller"], byName["receiver"], byName["loner"]
	if len(caller.ScopedMachines) != 1 || caller.ScopedMachines[0] != receiver.ID || len(loner.ScopedMachines) != 0 ||
		!strings.HasPrefix(caller.SecretKey, "ak_") || !clerkapi.MachineIDPattern.MatchString(loner.ID) {
		t.Fatalf("got machines %+v, want caller scoped to receiver and loner scoped to nothing", info.Machines)
	}

	mint, _ := clerkapi.New(caller.SecretKey, clerkapi.WithBaseURL(info.BaseURL))
	tok, err := mint.CreateToken(ctx, clerkapi.CreateParams{})
	if err != nil {
		t.Fatalf("create with the caller's key: %v", err)
	}
	for _, key := range []string{info.SecretKey, receiver.SecretKey} {
		api, _ := clerkapi.New(key, clerkapi.WithBaseURL(info.BaseURL))
		if v, err := api.VerifyToken(ctx, tok.Token); err != nil || v.ID != tok.ID {
			t.Errorf("verify: got %+v, %v; want the token", v, err)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run: got %v, want nil after cancel", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("run did not return after its context was cancelled")
	}
}

func TestRunText(t *testing.T) {
	out := startText(t)
	for _, want := range []string{"/v1", "sk_test_", "publishable key: pk_test_", "/.well-known/oauth-authorization-server",
		"consenting user: user_2EmulatorOAuthTestUser00000", "access tokens:   jwt", "caller", "receiver", "loner", "ak_", "mch_", "Try it", "TOKEN=$(curl"} {
		if !strings.Contains(out, want) {
			t.Errorf("got output %q, want it to mention %q", out, want)
		}
	}
}

func TestRunBadArgs(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
	}{
		{"unknown flag", []string{"-port", "1"}},
		{"extra argument", []string{"serve"}},
		{"bad address", []string{"-addr", "not-an-address"}},
		{"unknown OAuth token format", []string{"-addr", "127.0.0.1:0", "-oauth-token-format", "paseto"}},
		{"OAuth user not a user ID", []string{"-addr", "127.0.0.1:0", "-oauth-user", "bob"}},
	} {
		if err := run(context.Background(), c.args, io.Discard, io.Discard); err == nil {
			t.Errorf("%s: got nil, want an error", c.name)
		}
	}
}
