package conformance_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/clerk/clerk-sdk-go/v2"
	"github.com/clerk/clerk-sdk-go/v2/m2m_token"
	"github.com/clerk/clerk-sdk-go/v2/machine"
	"github.com/clerk/clerk-sdk-go/v2/machinescope"

	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/clerktest/internal/testkit"
)

// sdkConfig configures Clerk's official Go SDK for the emulator: its base URL
// and a key, nothing else. The HTTP client records every exchange so the
// answers are also checked against the spec.
func sdkConfig(srv *clerktest.Server, key string, rec *recorder) *clerk.ClientConfig {
	return &clerk.ClientConfig{BackendConfig: clerk.BackendConfig{
		URL:        clerk.String(srv.URL),
		Key:        clerk.String(key),
		HTTPClient: &http.Client{Transport: rec, Timeout: 10 * time.Second},
	}}
}

// TestOfficialSDK drives the emulator through clerk-sdk-go v2's unchanged
// m2m_token, machine and machinescope clients.
func TestOfficialSDK(t *testing.T) {
	clock := clerktest.NewClock(testkit.T0)
	srv := clerktest.NewServer(clerktest.WithClock(clock.Now))
	defer srv.Close()
	rec := &recorder{}
	ctx := t.Context()

	// Machines, as the instance.
	admin := sdkConfig(srv, srv.SecretKey, rec)
	machines := machine.NewClient(admin)
	scopes := machinescope.NewClient(admin)
	recv, err := machines.Create(ctx, &machine.CreateParams{Name: "receiver"})
	if err != nil {
		t.Fatalf("machine.Create: %v", err)
	}
	caller, err := machines.Create(ctx, &machine.CreateParams{Name: "caller", ScopedMachines: []string{recv.ID}, DefaultTokenTTL: clerk.Int64(600)})
	if err != nil {
		t.Fatalf("machine.Create: %v", err)
	}
	if caller.Object != "machine" || caller.SecretKey == "" || caller.DefaultTokenTTL != 600 || caller.InstanceID != srv.InstanceID() ||
		len(caller.ScopedMachines) != 1 || caller.ScopedMachines[0].ID != recv.ID || caller.CreatedAt != testkit.T0.UnixMilli() {
		t.Fatalf("machine.Create: got %+v, want a machine scoped to %s with a secret key", caller, recv.ID)
	}
	got, err := machines.Get(ctx, caller.ID)
	if err != nil || got.Name != "caller" || len(got.ScopedMachines) != 1 {
		t.Errorf("machine.Get: got %+v, %v", got, err)
	}
	list, err := machines.List(ctx, &machine.ListParams{})
	if err != nil || list.TotalCount != 2 || len(list.Machines) != 2 || list.Machines[0].ID != caller.ID {
		t.Errorf("machine.List: got %+v, %v; want 2 machines, newest (caller) first", list, err)
	}
	upd, err := machines.Update(ctx, recv.ID, &machine.UpdateParams{Name: clerk.String("receiver-2")})
	if err != nil || upd.Name != "receiver-2" || upd.DefaultTokenTTL != 3600 {
		t.Errorf("machine.Update: got %+v, %v", upd, err)
	}
	sk, err := machines.GetSecretKey(ctx, caller.ID)
	if err != nil || sk.Object != "machine_secret_key" || sk.Secret != caller.SecretKey {
		t.Errorf("machine.GetSecretKey: got %+v, %v; want the key from Create", sk, err)
	}
	spare, err := machines.Create(ctx, &machine.CreateParams{Name: "spare"})
	if err != nil {
		t.Fatal(err)
	}
	sc, err := scopes.CreateScope(ctx, spare.ID, &machinescope.CreateScopeParams{ToMachineID: recv.ID})
	if err != nil || sc.Object != "machine_scope" || sc.FromMachineID != spare.ID || sc.ToMachineID != recv.ID {
		t.Errorf("machinescope.CreateScope: got %+v, %v", sc, err)
	}
	if _, err := scopes.CreateScope(ctx, spare.ID, &machinescope.CreateScopeParams{ToMachineID: recv.ID}); statusOf(err) != http.StatusConflict {
		t.Errorf("machinescope.CreateScope twice: got %v, want 409", err)
	}
	ds, err := scopes.DeleteScope(ctx, spare.ID, recv.ID)
	if err != nil || !ds.Deleted || ds.ToMachineID != recv.ID {
		t.Errorf("machinescope.DeleteScope: got %+v, %v", ds, err)
	}
	del, err := machines.Delete(ctx, spare.ID)
	if err != nil || !del.Deleted || del.ID != spare.ID || del.Object != "machine" {
		t.Errorf("machine.Delete: got %+v, %v", del, err)
	}
	if _, err := machines.Get(ctx, spare.ID); statusOf(err) != http.StatusNotFound {
		t.Errorf("machine.Get deleted: got %v, want 404", err)
	}

	// Tokens, as the calling machine.
	asCaller := m2m_token.NewClient(sdkConfig(srv, caller.SecretKey, rec))
	claims := json.RawMessage(`{"job":"sync"}`)
	tok, err := asCaller.Create(ctx, &m2m_token.CreateParams{SecondsUntilExpiration: clerk.Int64(120), Claims: &claims})
	if err != nil {
		t.Fatalf("m2m_token.Create: %v", err)
	}
	if tok.Token == "" || tok.Token == tok.ID || tok.Subject != caller.ID || len(tok.Scopes) != 1 || tok.Scopes[0] != recv.ID ||
		tok.Expiration == nil || *tok.Expiration != testkit.T0.Add(120*time.Second).UnixMilli() || string(tok.Claims) != `{"job":"sync"}` {
		t.Fatalf("m2m_token.Create: got %+v", tok)
	}
	dflt, err := asCaller.Create(ctx, &m2m_token.CreateParams{})
	if err != nil || *dflt.Expiration != testkit.T0.Add(600*time.Second).UnixMilli() {
		t.Errorf("m2m_token.Create with the machine's default TTL: got %+v, %v; want expiry after 600 s", dflt, err)
	}

	// Verify as the receiving machine, and as the instance.
	asRecv := m2m_token.NewClient(sdkConfig(srv, recv.SecretKey, rec))
	clock.Advance(10 * time.Second)
	v, err := asRecv.Verify(ctx, &m2m_token.VerifyParams{Token: tok.Token})
	if err != nil || v.ID != tok.ID || v.LastUsedAt == nil || *v.LastUsedAt != clock.Now().UnixMilli() || v.Revoked || v.Expired {
		t.Errorf("m2m_token.Verify: got %+v, %v", v, err)
	}
	asAdmin := m2m_token.NewClient(admin)
	if _, err := asAdmin.Verify(ctx, &m2m_token.VerifyParams{Token: tok.Token}); err != nil {
		t.Errorf("m2m_token.Verify as instance: %v", err)
	}
	if _, err := asAdmin.Verify(ctx, &m2m_token.VerifyParams{Token: "mt_unknown"}); statusOf(err) != http.StatusNotFound {
		t.Errorf("m2m_token.Verify unknown: got %v, want 404", err)
	}

	// List and revoke.
	l, err := asAdmin.List(ctx, &m2m_token.ListParams{Subject: clerk.String(caller.ID)})
	if err != nil || l.TotalCount != 2 || len(l.M2MTokens) != 2 || l.M2MTokens[0].ID != dflt.ID {
		t.Fatalf("m2m_token.List: got %+v, %v; want 2 tokens, newest first", l, err)
	}
	r, err := asCaller.Revoke(ctx, tok.ID, &m2m_token.RevokeParams{RevocationReason: clerk.String("done")})
	if err != nil || !r.Revoked || r.RevocationReason == nil || *r.RevocationReason != "done" {
		t.Errorf("m2m_token.Revoke: got %+v, %v", r, err)
	}
	if _, err := asCaller.Revoke(ctx, dflt.ID, &m2m_token.RevokeParams{}); err != nil {
		t.Errorf("m2m_token.Revoke without a reason: %v", err)
	}
	if _, err := asRecv.Verify(ctx, &m2m_token.VerifyParams{Token: tok.Token}); statusOf(err) != http.StatusNotFound {
		t.Errorf("m2m_token.Verify revoked: got %v, want 404", err)
	}
	l, err = asCaller.List(ctx, &m2m_token.ListParams{Subject: clerk.String(caller.ID), Revoked: clerk.Bool(true),
		ListParams: clerk.ListParams{Limit: clerk.Int64(1), Offset: clerk.Int64(1)}})
	if err != nil || l.TotalCount != 2 || len(l.M2MTokens) != 1 || l.M2MTokens[0].ID != tok.ID {
		t.Errorf("m2m_token.List revoked, page 2: got %+v, %v", l, err)
	}

	// Errors surface as the SDK's APIErrorResponse with Clerk's codes.
	_, err = m2m_token.NewClient(sdkConfig(srv, "ak_wrong", rec)).Verify(ctx, &m2m_token.VerifyParams{Token: tok.Token})
	var ae *clerk.APIErrorResponse
	if !errors.As(err, &ae) || ae.HTTPStatusCode != 401 || len(ae.Errors) != 1 || ae.Errors[0].Code != "machine_secret_key_invalid" || ae.TraceID == "" {
		t.Errorf("verify with an unknown machine key: got %v, want 401 machine_secret_key_invalid with a trace ID", err)
	}
	if _, err := asAdmin.Create(ctx, &m2m_token.CreateParams{}); statusOf(err) != http.StatusUnauthorized {
		t.Errorf("create with the instance key: got %v, want 401", err)
	}
	validateAll(t, rec.exchanges())
}
