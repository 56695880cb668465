package clerktest_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
)

func TestCreateTokenShape(t *testing.T) {
	f := newFixture(t)
	tok, err := f.asCaller.CreateToken(t.Context(), clerkapi.CreateParams{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"object", tok.Object, clerkapi.ObjectM2MToken},
		{"subject", tok.Subject, f.caller.ID},
		{"id shape", clerkapi.TokenIDPattern.MatchString(tok.ID), true},
		{"token prefix", tok.Token[:3], "mt_"},
		{"token length", len(tok.Token), 3 + 32},
		{"token differs from id", tok.Token != tok.ID, true},
		{"claims", string(tok.Claims), "null"},
		{"scopes", len(tok.Scopes) == 1 && tok.Scopes[0] == f.receiver.ID, true},
		{"expiration", tok.Expiration.UnixMilli(), t0.Add(time.Hour).UnixMilli()},
		{"created_at", tok.CreatedAt.UnixMilli(), t0.UnixMilli()},
		{"last_used_at", tok.LastUsedAt.IsZero(), true},
		{"revoked", tok.Revoked, false},
		{"expired", tok.Expired, false},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestScopesAreSnapshotted(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	before := mustCreate(t, f.srv, f.caller.ID, clerkapi.CreateParams{})
	if err := f.srv.RemoveScope(f.caller.ID, f.receiver.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.srv.AddScope(f.caller.ID, f.loner.ID); err != nil {
		t.Fatal(err)
	}
	after := mustCreate(t, f.srv, f.caller.ID, clerkapi.CreateParams{})
	for _, c := range []struct {
		name   string
		api    *clerkapi.Client
		token  string
		wantOK bool
	}{
		{"old token, old scope", f.asRecv, before.Token, true},
		{"old token, new scope", f.asLoner, before.Token, false},
		{"new token, old scope", f.asRecv, after.Token, false},
		{"new token, new scope", f.asLoner, after.Token, true},
	} {
		_, err := c.api.VerifyToken(ctx, c.token)
		if (err == nil) != c.wantOK {
			t.Errorf("%s: got %v, want ok=%v", c.name, err, c.wantOK)
		}
	}
}

func TestExpiryFollowsClock(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	tok := mustCreate(t, f.srv, f.caller.ID, clerkapi.CreateParams{SecondsUntilExpiration: clerkapi.Int64(60)})
	f.clock.Advance(60*time.Second - time.Millisecond)
	if _, err := f.asRecv.VerifyToken(ctx, tok.Token); err != nil {
		t.Fatalf("1ms before expiry: got %v, want ok", err)
	}
	f.clock.Advance(time.Millisecond)
	if _, err := f.asRecv.VerifyToken(ctx, tok.Token); statusOf(err) != http.StatusNotFound {
		t.Fatalf("at expiry: got %v, want 404", err)
	}
	l, err := f.admin.ListTokens(ctx, clerkapi.ListParams{Subject: f.caller.ID})
	if err != nil || l.TotalCount != 0 {
		t.Errorf("list without expired: got %+v, %v; want none", l, err)
	}
	l, err = f.admin.ListTokens(ctx, clerkapi.ListParams{Subject: f.caller.ID, Expired: clerkapi.Bool(true)})
	if err != nil || l.TotalCount != 1 || !l.M2MTokens[0].Expired {
		t.Errorf("list with expired: got %+v, %v; want the token with expired=true", l, err)
	}
}

func TestMinRemainingTTLReuse(t *testing.T) {
	f := newFixture(t)
	create := func(p clerkapi.CreateParams) *clerkapi.M2MToken {
		t.Helper()
		tok, err := f.asCaller.CreateToken(t.Context(), p)
		if err != nil {
			t.Fatalf("create: %v", err)
		}
		return tok
	}
	minTTL := clerkapi.Int64(600)
	first := create(clerkapi.CreateParams{Claims: map[string]any{"a": 1, "b": []int{2}}, MinRemainingTTLSeconds: minTTL})
	for _, c := range []struct {
		name      string
		setup     func()
		p         clerkapi.CreateParams
		wantReuse bool
	}{
		{"same claims", nil, clerkapi.CreateParams{Claims: map[string]any{"b": []int{2}, "a": 1}, MinRemainingTTLSeconds: minTTL}, true},
		{"same claims, no min ttl", nil, clerkapi.CreateParams{Claims: map[string]any{"a": 1, "b": []int{2}}}, false},
		{"other claims", nil, clerkapi.CreateParams{Claims: map[string]any{"a": 2, "b": []int{2}}, MinRemainingTTLSeconds: minTTL}, false},
		{"jwt is never reused", nil, clerkapi.CreateParams{TokenFormat: clerkapi.FormatJWT, Claims: map[string]any{"a": 1, "b": []int{2}}, MinRemainingTTLSeconds: minTTL}, false},
		{"too little life left", func() { f.clock.Advance(3001 * time.Second) }, clerkapi.CreateParams{Claims: map[string]any{"a": 1, "b": []int{2}}, MinRemainingTTLSeconds: minTTL}, false},
	} {
		if c.setup != nil {
			c.setup()
		}
		got := create(c.p)
		if reused := got.ID == first.ID; reused != c.wantReuse {
			t.Errorf("%s: got reuse=%v, want %v", c.name, reused, c.wantReuse)
		}
		if c.wantReuse && got.Token != first.Token {
			t.Errorf("%s: got a different token value on reuse, want the existing one", c.name)
		}
	}

	// Revoked tokens and changed scopes are not reused either.
	f.clock.Advance(2 * time.Hour)
	a := create(clerkapi.CreateParams{MinRemainingTTLSeconds: minTTL})
	if b := create(clerkapi.CreateParams{MinRemainingTTLSeconds: minTTL}); b.ID != a.ID {
		t.Fatalf("got a new token, want %s reused", a.ID)
	}
	f.srv.RevokeToken(a.ID, "")
	b := create(clerkapi.CreateParams{MinRemainingTTLSeconds: minTTL})
	if b.ID == a.ID {
		t.Errorf("got the revoked token reused, want a new one")
	}
	f.srv.AddScope(f.caller.ID, f.loner.ID)
	if c := create(clerkapi.CreateParams{MinRemainingTTLSeconds: minTTL}); c.ID == b.ID {
		t.Errorf("got a token with the old scopes reused, want a new one")
	}
}

func TestListOrderAndPages(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	var ids []string
	for range 5 {
		ids = append(ids, mustCreate(t, f.srv, f.caller.ID, clerkapi.CreateParams{}).ID)
		f.clock.Advance(time.Second)
	}
	mustCreate(t, f.srv, f.loner.ID, clerkapi.CreateParams{}) // another subject
	mustCreate(t, f.srv, f.caller.ID, clerkapi.CreateParams{TokenFormat: clerkapi.FormatJWT})
	f.srv.RevokeToken(ids[1], "x")
	for _, c := range []struct {
		name  string
		p     clerkapi.ListParams
		want  []string
		total int64
	}{
		{"default", clerkapi.ListParams{}, []string{ids[4], ids[3], ids[2], ids[0]}, 4},
		{"with revoked", clerkapi.ListParams{Revoked: clerkapi.Bool(true)}, []string{ids[4], ids[3], ids[2], ids[1], ids[0]}, 5},
		{"page 2 of 2", clerkapi.ListParams{Limit: 2, Offset: 2}, []string{ids[2], ids[0]}, 4},
		{"past the end", clerkapi.ListParams{Offset: 10}, nil, 4},
		{"limit 1", clerkapi.ListParams{Limit: 1}, []string{ids[4]}, 4},
	} {
		c.p.Subject = f.caller.ID
		l, err := f.asCaller.ListTokens(ctx, c.p)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var got []string
		for _, tok := range l.M2MTokens {
			got = append(got, tok.ID)
			if tok.Token != "" {
				t.Errorf("%s: list shows a token value, want none", c.name)
			}
		}
		if len(got) != len(c.want) || l.TotalCount != c.total {
			t.Errorf("%s: got %v (total %d), want %v (total %d)", c.name, got, l.TotalCount, c.want, c.total)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%s: got %v, want %v", c.name, got, c.want)
				break
			}
		}
	}
}

func TestGoSetUpAPI(t *testing.T) {
	f := newFixture(t)
	if _, err := f.srv.CreateToken(f.caller.ID, clerkapi.CreateParams{SecondsUntilExpiration: clerkapi.Int64(0)}); statusOf(err) != 400 {
		t.Errorf("CreateToken with lifetime 0: got %v, want a 400 *clerkapi.APIError", err)
	}
	if _, err := f.srv.CreateToken("mch_unknown", clerkapi.CreateParams{}); statusOf(err) != 401 {
		t.Errorf("CreateToken for an unknown machine: got %v, want 401", err)
	}
	if err := f.srv.RevokeToken("mt_00000000000000000000000000000000", ""); statusOf(err) != 404 {
		t.Errorf("RevokeToken unknown: got %v, want 404", err)
	}
	for _, c := range []struct {
		name string
		err  error
		want error
	}{
		{"add unknown", f.srv.AddScope(f.caller.ID, "mch_nope"), clerktest.ErrUnknownMachine},
		{"add existing", f.srv.AddScope(f.caller.ID, f.receiver.ID), clerktest.ErrScopeExists},
		{"remove missing", f.srv.RemoveScope(f.loner.ID, f.receiver.ID), clerktest.ErrNoScope},
		{"remove unknown", f.srv.RemoveScope("mch_nope", f.receiver.ID), clerktest.ErrUnknownMachine},
	} {
		if !errors.Is(c.err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, c.err, c.want)
		}
	}
	m, ok := f.srv.Machine(f.caller.ID)
	if !ok || m.Name != "caller" || m.DefaultTokenTTL != time.Hour || len(m.ScopedMachines) != 1 || m.SecretKey != f.caller.SecretKey {
		t.Errorf("Machine: got %+v, %v", m, ok)
	}
	if _, ok := f.srv.Machine("mch_nope"); ok {
		t.Error("Machine(unknown): got ok, want not found")
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("CreateMachine with an unknown scope: got no panic, want one")
			}
		}()
		f.srv.CreateMachine("bad", "mch_nope")
	}()
}

func TestKeyRotationAndDeletion(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	rot := &http.Client{}
	resp, body := sendRaw(t, rot, f.srv.URL, rawCase{name: "rotate", key: f.srv.SecretKey, method: "POST",
		path: "/machines/" + f.caller.ID + "/secret_key/rotate", body: `{"previous_token_ttl":60}`})
	if resp.StatusCode != 200 {
		t.Fatalf("rotate: got %d %s", resp.StatusCode, body)
	}
	m, _ := f.srv.Machine(f.caller.ID)
	if m.SecretKey == f.caller.SecretKey {
		t.Fatal("rotate: got the same key, want a new one")
	}
	fresh := newClient(t, f.srv, m.SecretKey)
	for _, c := range []struct {
		name    string
		advance time.Duration
		api     *clerkapi.Client
		want    int
	}{
		{"old key in grace period", 59 * time.Second, f.asCaller, 0},
		{"new key", 0, fresh, 0},
		{"old key after grace period", time.Second, f.asCaller, 401},
	} {
		f.clock.Advance(c.advance)
		_, err := c.api.CreateToken(ctx, clerkapi.CreateParams{})
		if got := statusOf(err); got != c.want {
			t.Errorf("%s: got %v, want status %d", c.name, err, c.want)
		}
	}
	tok := mustCreate(t, f.srv, f.receiver.ID, clerkapi.CreateParams{})
	resp, _ = sendRaw(t, rot, f.srv.URL, rawCase{name: "delete", key: f.srv.SecretKey, method: "DELETE", path: "/machines/" + f.receiver.ID})
	if resp.StatusCode != 200 {
		t.Fatalf("delete: got %d", resp.StatusCode)
	}
	_, err := f.asRecv.VerifyToken(ctx, tok.Token)
	var ae *clerkapi.APIError
	if !errors.As(err, &ae) || ae.StatusCode != 401 || !ae.HasCode(clerkapi.CodeMachineSecretKeyInvalid) {
		t.Errorf("deleted machine's key: got %v, want 401 machine_secret_key_invalid", err)
	}
	if _, err := f.admin.VerifyToken(ctx, tok.Token); statusOf(err) != 404 {
		t.Errorf("deleted machine's token: got %v, want 404", err)
	}
	if m, _ := f.srv.Machine(f.caller.ID); len(m.ScopedMachines) != 0 {
		t.Errorf("scopes to a deleted machine: got %v, want none", m.ScopedMachines)
	}
}
