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

func TestCreateTokenShape(t *testing.T) {
	f := testkit.NewFixture(t)
	tok, err := f.AsCaller.CreateToken(t.Context(), clerkapi.CreateParams{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"object", tok.Object, clerkapi.ObjectM2MToken},
		{"subject", tok.Subject, f.Caller.ID},
		{"id shape", clerkapi.TokenIDPattern.MatchString(tok.ID), true},
		{"token prefix", tok.Token[:3], "mt_"},
		{"token length", len(tok.Token), 3 + 32},
		{"token differs from id", tok.Token != tok.ID, true},
		{"claims", string(tok.Claims), "null"},
		{"scopes", len(tok.Scopes) == 1 && tok.Scopes[0] == f.Receiver.ID, true},
		{"expiration", tok.Expiration.UnixMilli(), testkit.T0.Add(time.Hour).UnixMilli()},
		{"created_at", tok.CreatedAt.UnixMilli(), testkit.T0.UnixMilli()},
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
	f := testkit.NewFixture(t)
	ctx := t.Context()
	before := testkit.MustCreate(t, f.Srv, f.Caller.ID, clerkapi.CreateParams{})
	if err := f.Srv.RemoveScope(f.Caller.ID, f.Receiver.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.Srv.AddScope(f.Caller.ID, f.Loner.ID); err != nil {
		t.Fatal(err)
	}
	after := testkit.MustCreate(t, f.Srv, f.Caller.ID, clerkapi.CreateParams{})
	for _, c := range []struct {
		name   string
		api    *clerkapi.Client
		token  string
		wantOK bool
	}{
		{"old token, old scope", f.AsRecv, before.Token, true},
		{"old token, new scope", f.AsLoner, before.Token, false},
		{"new token, old scope", f.AsRecv, after.Token, false},
		{"new token, new scope", f.AsLoner, after.Token, true},
	} {
		_, err := c.api.VerifyToken(ctx, c.token)
		if (err == nil) != c.wantOK {
			t.Errorf("%s: got %v, want ok=%v", c.name, err, c.wantOK)
		}
	}
}

func TestExpiryFollowsClock(t *testing.T) {
	f := testkit.NewFixture(t)
	ctx := t.Context()
	tok := testkit.MustCreate(t, f.Srv, f.Caller.ID, clerkapi.CreateParams{SecondsUntilExpiration: clerkapi.Int64(60)})
	f.Clock.Advance(60*time.Second - time.Millisecond)
	if _, err := f.AsRecv.VerifyToken(ctx, tok.Token); err != nil {
		t.Fatalf("1ms before expiry: got %v, want ok", err)
	}
	f.Clock.Advance(time.Millisecond)
	if _, err := f.AsRecv.VerifyToken(ctx, tok.Token); statusOf(err) != http.StatusNotFound {
		t.Fatalf("at expiry: got %v, want 404", err)
	}
	l, err := f.Admin.ListTokens(ctx, clerkapi.ListParams{Subject: f.Caller.ID})
	if err != nil || l.TotalCount != 0 {
		t.Errorf("list without expired: got %+v, %v; want none", l, err)
	}
	l, err = f.Admin.ListTokens(ctx, clerkapi.ListParams{Subject: f.Caller.ID, Expired: clerkapi.Bool(true)})
	if err != nil || l.TotalCount != 1 || !l.M2MTokens[0].Expired {
		t.Errorf("list with expired: got %+v, %v; want the token with expired=true", l, err)
	}
}

func TestMinRemainingTTLReuse(t *testing.T) {
	f := testkit.NewFixture(t)
	create := func(p clerkapi.CreateParams) *clerkapi.M2MToken {
		t.Helper()
		tok, err := f.AsCaller.CreateToken(t.Context(), p)
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
		{"too little life left", func() { f.Clock.Advance(3001 * time.Second) }, clerkapi.CreateParams{Claims: map[string]any{"a": 1, "b": []int{2}}, MinRemainingTTLSeconds: minTTL}, false},
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
	f.Clock.Advance(2 * time.Hour)
	a := create(clerkapi.CreateParams{MinRemainingTTLSeconds: minTTL})
	if b := create(clerkapi.CreateParams{MinRemainingTTLSeconds: minTTL}); b.ID != a.ID {
		t.Fatalf("got a new token, want %s reused", a.ID)
	}
	f.Srv.RevokeToken(a.ID, "")
	b := create(clerkapi.CreateParams{MinRemainingTTLSeconds: minTTL})
	if b.ID == a.ID {
		t.Errorf("got the revoked token reused, want a new one")
	}
	f.Srv.AddScope(f.Caller.ID, f.Loner.ID)
	if c := create(clerkapi.CreateParams{MinRemainingTTLSeconds: minTTL}); c.ID == b.ID {
		t.Errorf("got a token with the old scopes reused, want a new one")
	}
}

func TestListOrderAndPages(t *testing.T) {
	f := testkit.NewFixture(t)
	ctx := t.Context()
	var ids []string
	for range 5 {
		ids = append(ids, testkit.MustCreate(t, f.Srv, f.Caller.ID, clerkapi.CreateParams{}).ID)
		f.Clock.Advance(time.Second)
	}
	testkit.MustCreate(t, f.Srv, f.Loner.ID, clerkapi.CreateParams{}) // another subject
	testkit.MustCreate(t, f.Srv, f.Caller.ID, clerkapi.CreateParams{TokenFormat: clerkapi.FormatJWT})
	f.Srv.RevokeToken(ids[1], "x")
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
		c.p.Subject = f.Caller.ID
		l, err := f.AsCaller.ListTokens(ctx, c.p)
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
	f := testkit.NewFixture(t)
	if _, err := f.Srv.CreateToken(f.Caller.ID, clerkapi.CreateParams{SecondsUntilExpiration: clerkapi.Int64(0)}); statusOf(err) != 400 {
		t.Errorf("CreateToken with lifetime 0: got %v, want a 400 *clerkapi.APIError", err)
	}
	if _, err := f.Srv.CreateToken("mch_unknown", clerkapi.CreateParams{}); statusOf(err) != 401 {
		t.Errorf("CreateToken for an unknown machine: got %v, want 401", err)
	}
	if err := f.Srv.RevokeToken("mt_00000000000000000000000000000000", ""); statusOf(err) != 404 {
		t.Errorf("RevokeToken unknown: got %v, want 404", err)
	}
	for _, c := range []struct {
		name string
		err  error
		want error
	}{
		{"add unknown", f.Srv.AddScope(f.Caller.ID, "mch_nope"), clerktest.ErrUnknownMachine},
		{"add existing", f.Srv.AddScope(f.Caller.ID, f.Receiver.ID), clerktest.ErrScopeExists},
		{"remove missing", f.Srv.RemoveScope(f.Loner.ID, f.Receiver.ID), clerktest.ErrNoScope},
		{"remove unknown", f.Srv.RemoveScope("mch_nope", f.Receiver.ID), clerktest.ErrUnknownMachine},
	} {
		if !errors.Is(c.err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, c.err, c.want)
		}
	}
	m, ok := f.Srv.Machine(f.Caller.ID)
	if !ok || m.Name != "caller" || m.DefaultTokenTTL != time.Hour || len(m.ScopedMachines) != 1 || m.SecretKey != f.Caller.SecretKey {
		t.Errorf("Machine: got %+v, %v", m, ok)
	}
	if _, ok := f.Srv.Machine("mch_nope"); ok {
		t.Error("Machine(unknown): got ok, want not found")
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("CreateMachine with an unknown scope: got no panic, want one")
			}
		}()
		f.Srv.CreateMachine("bad", "mch_nope")
	}()
}

func TestKeyRotationAndDeletion(t *testing.T) {
	f := testkit.NewFixture(t)
	ctx := t.Context()
	rot := &http.Client{}
	resp, body := testkit.SendRaw(t, rot, f.Srv.URL, testkit.RawCase{Name: "rotate", Key: f.Srv.SecretKey, Method: "POST",
		Path: "/machines/" + f.Caller.ID + "/secret_key/rotate", Body: `{"previous_token_ttl":60}`})
	if resp.StatusCode != 200 {
		t.Fatalf("rotate: got %d %s", resp.StatusCode, body)
	}
	m, _ := f.Srv.Machine(f.Caller.ID)
	if m.SecretKey == f.Caller.SecretKey {
		t.Fatal("rotate: got the same key, want a new one")
	}
	fresh := testkit.NewClient(t, f.Srv, m.SecretKey)
	for _, c := range []struct {
		name    string
		advance time.Duration
		api     *clerkapi.Client
		want    int
	}{
		{"old key in grace period", 59 * time.Second, f.AsCaller, 0},
		{"new key", 0, fresh, 0},
		{"old key after grace period", time.Second, f.AsCaller, 401},
	} {
		f.Clock.Advance(c.advance)
		_, err := c.api.CreateToken(ctx, clerkapi.CreateParams{})
		if got := statusOf(err); got != c.want {
			t.Errorf("%s: got %v, want status %d", c.name, err, c.want)
		}
	}
	tok := testkit.MustCreate(t, f.Srv, f.Receiver.ID, clerkapi.CreateParams{})
	resp, _ = testkit.SendRaw(t, rot, f.Srv.URL, testkit.RawCase{Name: "delete", Key: f.Srv.SecretKey, Method: "DELETE", Path: "/machines/" + f.Receiver.ID})
	if resp.StatusCode != 200 {
		t.Fatalf("delete: got %d", resp.StatusCode)
	}
	_, err := f.AsRecv.VerifyToken(ctx, tok.Token)
	var ae *clerkapi.APIError
	if !errors.As(err, &ae) || ae.StatusCode != 401 || !ae.HasCode(clerkapi.CodeMachineSecretKeyInvalid) {
		t.Errorf("deleted machine's key: got %v, want 401 machine_secret_key_invalid", err)
	}
	if _, err := f.Admin.VerifyToken(ctx, tok.Token); statusOf(err) != 404 {
		t.Errorf("deleted machine's token: got %v, want 404", err)
	}
	if m, _ := f.Srv.Machine(f.Caller.ID); len(m.ScopedMachines) != 0 {
		t.Errorf("scopes to a deleted machine: got %v, want none", m.ScopedMachines)
	}
}
