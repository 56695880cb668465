package clerktest_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/clerktest/internal/testkit"
)

// statusOf returns the HTTP status of an error answer as clerkapi reports it,
// and 0 for any other error.
func statusOf(err error) int {
	var ae *clerkapi.APIError
	if errors.As(err, &ae) {
		return ae.StatusCode
	}
	return 0
}

func TestSmokeOpaqueLifecycle(t *testing.T) {
	f := testkit.NewFixture(t)
	ctx := t.Context()
	tok, err := f.AsCaller.CreateToken(ctx, clerkapi.CreateParams{Claims: map[string]any{"k": "v"}})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if tok.Token == tok.ID || !clerkapi.TokenIDPattern.MatchString(tok.ID) || len(tok.Token) != 35 {
		t.Fatalf("got id %q token len %d, want mt_ id and a distinct 35-char value", tok.ID, len(tok.Token))
	}
	if got, want := tok.Expiration.Time, testkit.T0.Add(time.Hour); !got.Equal(want) {
		t.Errorf("got expiration %v, want %v", got, want)
	}
	v, err := f.AsRecv.VerifyToken(ctx, tok.Token)
	if err != nil {
		t.Fatalf("verify as receiver: %v", err)
	}
	if v.ID != tok.ID || v.Subject != f.Caller.ID || v.Token != "" || !v.LastUsedAt.Equal(testkit.T0) {
		t.Errorf("got %+v, want the token without value and last_used_at %v", v, testkit.T0)
	}
	if _, err := f.AsLoner.VerifyToken(ctx, tok.Token); statusOf(err) != http.StatusNotFound {
		t.Errorf("verify as unscoped machine: got %v, want 404", err)
	}
	if _, err := f.Admin.VerifyToken(ctx, tok.Token); err != nil {
		t.Errorf("verify as instance: got %v, want ok", err)
	}
	l, err := f.Admin.ListTokens(ctx, clerkapi.ListParams{Subject: f.Caller.ID})
	if err != nil || l.TotalCount != 1 || len(l.M2MTokens) != 1 {
		t.Fatalf("list: got %+v, %v; want one token", l, err)
	}
	r, err := f.AsCaller.RevokeToken(ctx, tok.ID, "done")
	if err != nil || !r.Revoked || r.RevocationReason == nil || *r.RevocationReason != "done" {
		t.Fatalf("revoke: got %+v, %v", r, err)
	}
	if _, err := f.AsRecv.VerifyToken(ctx, tok.Token); statusOf(err) != http.StatusNotFound {
		t.Errorf("verify revoked: got %v, want 404", err)
	}
	if got := f.Srv.Calls(clerktest.EndpointVerify); got != 4 {
		t.Errorf("got %d verify calls, want 4", got)
	}
}
