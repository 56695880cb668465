package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/verifier"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func envFrom(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestRun_Embedded(t *testing.T) {
	var out strings.Builder
	if err := run(context.Background(), envFrom(map[string]string{"REQUESTS": "300"}), &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	if want := "made 300 requests, created 1 token, 0 failures\nthe protected service asked Clerk to verify 1 time\n"; !strings.HasSuffix(out.String(), want) {
		t.Errorf("output:\n%s\nwant it to end with %q", out.String(), want)
	}
}

func TestRun_External(t *testing.T) {
	clerk := clerktest.NewServer()
	defer clerk.Close()
	receiver := clerk.CreateMachine("receiver")
	caller := clerk.CreateMachine("caller", receiver.ID)
	stranger := clerk.CreateMachine("stranger") // not scoped to the receiver

	// The target: accepts only tokens Clerk verifies for the receiver.
	v, err := verifier.New(receiver.SecretKey, verifier.WithBaseURL(clerk.URL))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if _, err := v.Verify(r.Context(), tok, ""); err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer target.Close()

	for _, tc := range []struct {
		name    string
		env     map[string]string
		wantOut string // suffix of the output
		wantErr string // substring of the error; "" for success
	}{
		{"scoped caller", map[string]string{"CLERK_MACHINE_SECRET_KEY": caller.SecretKey, "CLERK_API_URL": clerk.URL, "TARGET_URL": target.URL, "REQUESTS": "50"},
			"made 50 requests, created 1 token, 0 failures\n", ""},
		{"unscoped caller", map[string]string{"CLERK_MACHINE_SECRET_KEY": stranger.SecretKey, "CLERK_API_URL": clerk.URL, "TARGET_URL": target.URL, "REQUESTS": "5"},
			"made 5 requests, created 2 tokens, 5 failures\n", "401 Unauthorized"}, // the first token and one replacement
		{"wrong key", map[string]string{"CLERK_MACHINE_SECRET_KEY": "ak_0000000000000000000000000000000000000000", "CLERK_API_URL": clerk.URL, "TARGET_URL": target.URL, "REQUESTS": "5"},
			"made 5 requests, created 0 tokens, 5 failures\n", "machine_secret_key_invalid"},
		{"no target", map[string]string{"CLERK_MACHINE_SECRET_KEY": caller.SecretKey}, "", "TARGET_URL is not set"},
		{"target without key", map[string]string{"TARGET_URL": target.URL}, "", "CLERK_MACHINE_SECRET_KEY is not"},
		{"bad REQUESTS", map[string]string{"REQUESTS": "lots"}, "", "REQUESTS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out strings.Builder
			err := run(context.Background(), envFrom(tc.env), &out)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("run: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("run error = %v, want one containing %q", err, tc.wantErr)
			}
			if !strings.HasSuffix(out.String(), tc.wantOut) {
				t.Errorf("output %q, want it to end with %q", out.String(), tc.wantOut)
			}
			if key := tc.env["CLERK_MACHINE_SECRET_KEY"]; key != "" && (strings.Contains(out.String(), key) || err != nil && strings.Contains(err.Error(), key)) {
				t.Error("the secret key appears in the output or the error")
			}
		})
	}
}
