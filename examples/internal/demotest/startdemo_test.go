package demotest_test

// clerktest.StartDemo is tested here, beside the examples that call it.

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestStartDemo(t *testing.T) {
	for _, tc := range []struct {
		name       string
		claims     any
		wantClaims string // the token's claims as JSON, "" for none
		wantShown  string // how the output names them
	}{
		{"role claim", map[string]string{"role": "reporter"}, `{"role":"reporter"}`, `({"role":"reporter"}, 1h)`},
		{"no claims", nil, "", "(no claims, 1h)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out strings.Builder
			d, err := clerktest.StartDemo(&out, tc.claims)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()

			if !slices.Equal(d.Caller.ScopedMachines, []string{d.Receiver.ID}) {
				t.Errorf("caller scoped to %v, want [%s]", d.Caller.ScopedMachines, d.Receiver.ID)
			}
			// The receiver's machine key verifies the token: it is live,
			// the caller's, scoped to the receiver.
			asReceiver, err := clerkapi.New(d.Receiver.SecretKey, clerkapi.WithBaseURL(d.URL))
			if err != nil {
				t.Fatal(err)
			}
			tok, err := asReceiver.VerifyToken(context.Background(), d.Token)
			if err != nil {
				t.Fatalf("verifying the demo token as the receiver: %v", err)
			}
			if tok.Subject != d.Caller.ID || !slices.Contains(tok.Scopes, d.Receiver.ID) {
				t.Errorf("got subject %s scopes %v, want %s and [%s]", tok.Subject, tok.Scopes, d.Caller.ID, d.Receiver.ID)
			}
			if got := claimsJSON(t, tok.Claims); got != tc.wantClaims {
				t.Errorf("got claims %s, want %s", got, tc.wantClaims)
			}
			if got := tok.Expiration.Sub(tok.CreatedAt.Time); got != time.Hour {
				t.Errorf("got a lifetime of %v (created %v, expires %v), want 1h", got, tok.CreatedAt, tok.Expiration)
			}

			want := fmt.Sprintf("Clerk emulator (in-process): %s\n"+
				"  receiver machine (this service, the audience): %s\n"+
				"  caller machine (scoped to the receiver):       %s\n"+
				"  the caller's token %s:  %s\n", d.URL, d.Receiver.ID, d.Caller.ID, tc.wantShown, d.Token)
			if out.String() != want {
				t.Errorf("got output\n%s\nwant\n%s", out.String(), want)
			}
			for _, key := range []string{d.SecretKey, d.Receiver.SecretKey, d.Caller.SecretKey} {
				if strings.Contains(out.String(), key) {
					t.Error("the output holds a secret key")
				}
			}
		})
	}
}

func claimsJSON(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestStartDemoNilWriter(t *testing.T) {
	d, err := clerktest.StartDemo(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	if !strings.HasPrefix(d.Token, "mt_") {
		t.Errorf("got token %q, want mt_…", d.Token)
	}
}

// Claims that cannot be encoded are an error, and nothing is left running
// (goleak checks).
func TestStartDemoBadClaims(t *testing.T) {
	var out strings.Builder
	d, err := clerktest.StartDemo(&out, map[string]any{"f": func() {}})
	if err == nil {
		d.Close()
		t.Fatal("got no error, want one for claims that are not JSON")
	}
	if out.Len() != 0 {
		t.Errorf("got output %q, want none", out.String())
	}
}
