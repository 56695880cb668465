package conformance_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/middleware"
	"github.com/m2mauth/m2mauth/verifier"
)

// TestAudience shows the fail-closed audience rule end to end: for each kind
// of Verifier × audience option, whether middleware.New builds an
// Authenticator, and what a token scoped to this service (the caller's) and
// one not scoped to it (the stranger's) get through each adapter, on real
// HTTP servers, with the real verifier on the emulator.
func TestAudience(t *testing.T) {
	f := newFixture(t)
	newVerifier := func(key string) *verifier.Verifier {
		v, err := verifier.New(key, verifier.WithBaseURL(f.clerk.URL), verifier.WithClock(f.clock.Now),
			verifier.WithLimits(verifier.Limits{Timeout: 5 * time.Second}))
		if err != nil {
			t.Fatalf("verifier.New: %v", err)
		}
		t.Cleanup(func() { _ = v.Close() })
		return v
	}
	instance := newVerifier(f.clerk.SecretKey) // sk_…: Clerk accepts any token of the instance
	machine := newVerifier(f.receiver.SecretKey)
	// A custom Verifier that says nothing about the audience, here delegating
	// to the sk_ verifier: treated like it.
	custom := middleware.VerifierFunc(func(ctx context.Context, tok, _ string) (*verifier.Token, error) {
		return instance.Verify(ctx, tok, "")
	})

	// One token of each format for the caller (scoped to the receiver) and
	// for the stranger (scoped to another machine only).
	type token struct{ format, scope, value, subject string }
	var tokens []token
	for _, format := range []clerkapi.TokenFormat{clerkapi.FormatOpaque, clerkapi.FormatJWT} {
		for _, m := range []struct {
			scope string
			id    string
		}{{"scoped", f.caller.ID}, {"not scoped", f.stranger.ID}} {
			tok, err := f.clerk.CreateToken(m.id, clerkapi.CreateParams{TokenFormat: format})
			if err != nil {
				t.Fatalf("CreateToken: %v", err)
			}
			tokens = append(tokens, token{string(format), m.scope, tok.Token, m.id})
		}
	}

	const (
		ok        = 200
		forbidden = 403 // refused by WithAudience
		invalid   = 401 // refused by Clerk: not granted to the ak_ key's machine
	)
	// buildErr: "" builds; "none" is ErrNoAudience; "conflict" another error.
	type outcome struct {
		buildErr         string
		scoped, unscoped int
	}
	skLike := map[string]outcome{
		"no audience":          {buildErr: "none"},
		`WithAudience("")`:     {buildErr: "none"},
		"WithAudience(mch_…)":  {scoped: ok, unscoped: forbidden},
		"WithAnyAudience":      {scoped: ok, unscoped: ok},
		"mch_… and opt-out":    {buildErr: "conflict"},
		`"" and opt-out`:       {scoped: ok, unscoped: ok},
		"WithAudience(other)":  {scoped: forbidden, unscoped: forbidden},
		"WithAudience(orders)": {buildErr: "invalid"},
	}
	akLike := map[string]outcome{
		"no audience":          {scoped: ok, unscoped: invalid},
		`WithAudience("")`:     {scoped: ok, unscoped: invalid},
		"WithAudience(mch_…)":  {scoped: ok, unscoped: invalid},
		"WithAnyAudience":      {scoped: ok, unscoped: invalid},
		"mch_… and opt-out":    {buildErr: "conflict"},
		`"" and opt-out`:       {scoped: ok, unscoped: invalid},
		"WithAudience(other)":  {scoped: forbidden, unscoped: invalid},
		"WithAudience(orders)": {buildErr: "invalid"},
	}
	options := []struct {
		name string
		opts []middleware.Option
	}{
		{"no audience", nil},
		{`WithAudience("")`, []middleware.Option{middleware.WithAudience("")}},
		{"WithAudience(mch_…)", []middleware.Option{middleware.WithAudience(f.receiver.ID)}},
		{"WithAnyAudience", []middleware.Option{middleware.WithAnyAudience()}},
		{"mch_… and opt-out", []middleware.Option{middleware.WithAudience(f.receiver.ID), middleware.WithAnyAudience()}},
		{`"" and opt-out`, []middleware.Option{middleware.WithAudience(""), middleware.WithAnyAudience()}},
		{"WithAudience(other)", []middleware.Option{middleware.WithAudience(f.caller.ID)}},
		{"WithAudience(orders)", []middleware.Option{middleware.WithAudience("orders")}},
	}
	for _, vc := range []struct {
		name string
		v    middleware.Verifier
		want map[string]outcome
	}{
		{"sk_", instance, skLike},
		{"ak_", machine, akLike},
		{"custom Verifier", custom, skLike},
	} {
		for _, oc := range options {
			want := vc.want[oc.name]
			t.Run(vc.name+"/"+oc.name, func(t *testing.T) {
				a, err := middleware.New(vc.v, oc.opts...)
				switch {
				case want.buildErr == "none":
					if !errors.Is(err, middleware.ErrNoAudience) || !strings.Contains(err.Error(), "WithAudience(") ||
						!strings.Contains(err.Error(), "WithAnyAudience()") {
						t.Fatalf("got (%v, %v), want ErrNoAudience naming both fixes", a, err)
					}
					return
				case want.buildErr != "":
					if err == nil || errors.Is(err, middleware.ErrNoAudience) {
						t.Fatalf("got (%v, %v), want a %s error", a, err, want.buildErr)
					}
					return
				case err != nil:
					t.Fatalf("New: %v", err)
				}
				for _, tok := range tokens {
					wantStatus := want.scoped
					if tok.scope == "not scoped" {
						wantStatus = want.unscoped
					}
					t.Run(tok.format+" "+tok.scope, func(t *testing.T) {
						checkAcrossAdapters(t, a, tok.value, wantStatus, tok.subject)
					})
				}
			})
		}
	}
}

// checkAcrossAdapters sends GET /api/whoami with the token to a real server
// per adapter, built on a, and checks the status, the body's error code or
// subject, and that all adapters answer alike (see answer).
func checkAcrossAdapters(t *testing.T, a *middleware.Authenticator, tok string, wantStatus int, wantSubject string) {
	t.Helper()
	wantError := map[int]string{401: "invalid_token", 403: "insufficient_scope"}[wantStatus]
	got := map[string]answer{}
	for _, ad := range adapters {
		srv := httptest.NewServer(ad.handler(a))
		req, err := http.NewRequest(http.MethodGet, srv.URL+"/api/whoami", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := srv.Client().Do(req)
		if err != nil {
			srv.Close()
			t.Fatalf("%s: GET: %v", ad.name, err)
		}
		body, rerr := io.ReadAll(res.Body)
		res.Body.Close()
		srv.Close()
		if rerr != nil {
			t.Fatalf("%s: reading body: %v", ad.name, rerr)
		}
		g, err := readAnswer(res.StatusCode, res.Header, body)
		if err != nil {
			t.Fatalf("%s: got %d: %v", ad.name, res.StatusCode, err)
		}
		got[ad.name] = g
		if g.Status != wantStatus || g.field("error") != wantError {
			t.Errorf("%s: got %d %s (%s), want %d %q", ad.name, g.Status, g.Body, g.WWW, wantStatus, wantError)
		}
		if wantStatus == 200 && g.field("subject") != wantSubject {
			t.Errorf("%s: got subject %q, want %q", ad.name, g.field("subject"), wantSubject)
		}
	}
	ref := got[adapters[0].name]
	for _, ad := range adapters[1:] {
		if got[ad.name] != ref {
			t.Errorf("%s answered %+v, %s answered %+v: want identical", ad.name, got[ad.name], adapters[0].name, ref)
		}
	}
}
