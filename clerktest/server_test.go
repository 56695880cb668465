package clerktest_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/clerk/clerk-sdk-go/v2"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
)

var t0 = time.Date(2026, 5, 12, 10, 0, 0, 0, time.UTC)

// fixture is an emulator with a receiver, a caller scoped to it and an
// unscoped machine, plus clients for each key.
type fixture struct {
	srv                     *clerktest.Server
	clock                   *clerktest.Clock
	receiver, caller, loner *clerktest.Machine
	admin, asCaller, asRecv *clerkapi.Client
	asLoner                 *clerkapi.Client
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{clock: clerktest.NewClock(t0)}
	f.srv = clerktest.NewServer(clerktest.WithClock(f.clock.Now))
	t.Cleanup(f.srv.Close)
	f.receiver = f.srv.CreateMachine("receiver")
	f.caller = f.srv.CreateMachine("caller", f.receiver.ID)
	f.loner = f.srv.CreateMachine("loner")
	f.admin = newClient(t, f.srv, f.srv.SecretKey)
	f.asCaller = newClient(t, f.srv, f.caller.SecretKey)
	f.asRecv = newClient(t, f.srv, f.receiver.SecretKey)
	f.asLoner = newClient(t, f.srv, f.loner.SecretKey)
	return f
}

func newClient(t *testing.T, srv *clerktest.Server, key string) *clerkapi.Client {
	t.Helper()
	c, err := clerkapi.New(key, clerkapi.WithBaseURL(srv.URL))
	if err != nil {
		t.Fatalf("clerkapi.New: %v", err)
	}
	return c
}

// statusOf returns the HTTP status of an error answer as clerkapi or Clerk's
// official SDK reports it, and 0 for any other error.
func statusOf(err error) int {
	var ae *clerkapi.APIError
	var se *clerk.APIErrorResponse
	switch {
	case errors.As(err, &ae):
		return ae.StatusCode
	case errors.As(err, &se):
		return se.HTTPStatusCode
	}
	return 0
}

func TestSmokeOpaqueLifecycle(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	tok, err := f.asCaller.CreateToken(ctx, clerkapi.CreateParams{Claims: map[string]any{"k": "v"}})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if tok.Token == tok.ID || !clerkapi.TokenIDPattern.MatchString(tok.ID) || len(tok.Token) != 35 {
		t.Fatalf("got id %q token len %d, want mt_ id and a distinct 35-char value", tok.ID, len(tok.Token))
	}
	if got, want := tok.Expiration.Time, t0.Add(time.Hour); !got.Equal(want) {
		t.Errorf("got expiration %v, want %v", got, want)
	}
	v, err := f.asRecv.VerifyToken(ctx, tok.Token)
	if err != nil {
		t.Fatalf("verify as receiver: %v", err)
	}
	if v.ID != tok.ID || v.Subject != f.caller.ID || v.Token != "" || !v.LastUsedAt.Equal(t0) {
		t.Errorf("got %+v, want the token without value and last_used_at %v", v, t0)
	}
	if _, err := f.asLoner.VerifyToken(ctx, tok.Token); statusOf(err) != http.StatusNotFound {
		t.Errorf("verify as unscoped machine: got %v, want 404", err)
	}
	if _, err := f.admin.VerifyToken(ctx, tok.Token); err != nil {
		t.Errorf("verify as instance: got %v, want ok", err)
	}
	l, err := f.admin.ListTokens(ctx, clerkapi.ListParams{Subject: f.caller.ID})
	if err != nil || l.TotalCount != 1 || len(l.M2MTokens) != 1 {
		t.Fatalf("list: got %+v, %v; want one token", l, err)
	}
	r, err := f.asCaller.RevokeToken(ctx, tok.ID, "done")
	if err != nil || !r.Revoked || r.RevocationReason == nil || *r.RevocationReason != "done" {
		t.Fatalf("revoke: got %+v, %v", r, err)
	}
	if _, err := f.asRecv.VerifyToken(ctx, tok.Token); statusOf(err) != http.StatusNotFound {
		t.Errorf("verify revoked: got %v, want 404", err)
	}
	if got := f.srv.Calls(clerktest.EndpointVerify); got != 4 {
		t.Errorf("got %d verify calls, want 4", got)
	}
}
