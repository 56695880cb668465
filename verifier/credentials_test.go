package verifier_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/verifier"
)

// apiKey creates an API key of userA with scopes on the emulator and returns
// its secret.
func (e *env) apiKey(scopes ...string) (secret, id string) {
	e.t.Helper()
	k, err := e.srv.CreateAPIKey(clerktest.APIKeyParams{Name: "reports", Subject: userA, Scopes: scopes})
	if err != nil {
		e.t.Fatalf("CreateAPIKey: %v", err)
	}
	return k.Secret, k.ID
}

// oauthToken mints an OAuth access token of userA for a new application.
func (e *env) oauthToken(format clerkapi.TokenFormat, ttl time.Duration, scopes ...string) string {
	e.t.Helper()
	app := e.srv.CreateOAuthApplication("agent")
	tok, err := e.srv.CreateOAuthAccessToken(clerktest.OAuthAccessTokenParams{UserID: userA, ClientID: app.ClientID,
		Scopes: scopes, Format: format, TTL: ttl})
	if err != nil {
		e.t.Fatalf("CreateOAuthAccessToken: %v", err)
	}
	return tok
}

// TestCredentialsOnTheEmulator: each kind end to end against the emulator —
// valid, revoked, expired, unknown — with the Clerk calls each costs.
func TestCredentialsOnTheEmulator(t *testing.T) {
	ctx := context.Background()
	type step struct {
		name         string
		prepare      func(e *env) string
		want         error
		kind         verifier.Kind
		verify, jwks int64 // calls to the kind's verify endpoint and to /jwks
		verifyAt     clerktest.Endpoint
		afterAdvance time.Duration // clock advanced before Verify
	}
	revokedKey := func(e *env) string {
		secret, id := e.apiKey("read")
		if err := e.srv.RevokeAPIKey(id, "leaked"); err != nil {
			t.Fatal(err)
		}
		return secret
	}
	revokedOAuth := func(e *env) string {
		tok := e.oauthToken(clerkapi.FormatOpaque, 0, "read")
		if err := e.srv.RevokeOAuthAccessToken(tok); err != nil {
			t.Fatal(err)
		}
		return tok
	}
	for _, tc := range []step{
		{name: "API key", prepare: func(e *env) string { s, _ := e.apiKey("read"); return s }, kind: verifier.KindAPIKey, verify: 1, verifyAt: clerktest.EndpointAPIKeyVerify},
		{name: "API key revoked", prepare: revokedKey, want: verifier.ErrInvalidToken, verify: 1, verifyAt: clerktest.EndpointAPIKeyVerify},
		{name: "API key unknown", prepare: func(*env) string { return apiKeySecret }, want: verifier.ErrInvalidToken, verify: 1, verifyAt: clerktest.EndpointAPIKeyVerify},
		{name: "OAuth opaque", prepare: func(e *env) string { return e.oauthToken(clerkapi.FormatOpaque, 0, "read") }, kind: verifier.KindOAuth, verify: 1, verifyAt: clerktest.EndpointOAuthVerify},
		{name: "OAuth opaque revoked", prepare: revokedOAuth, want: verifier.ErrInvalidToken, verify: 1, verifyAt: clerktest.EndpointOAuthVerify},
		{name: "OAuth opaque expired", prepare: func(e *env) string { return e.oauthToken(clerkapi.FormatOpaque, time.Minute, "read") },
			afterAdvance: 2 * time.Minute, want: verifier.ErrInvalidToken, verify: 1, verifyAt: clerktest.EndpointOAuthVerify},
		{name: "OAuth JWT: local", prepare: func(e *env) string { return e.oauthToken(clerkapi.FormatJWT, 0, "read") }, kind: verifier.KindOAuth, jwks: 1, verifyAt: clerktest.EndpointOAuthVerify},
		{name: "OAuth JWT expired: local", prepare: func(e *env) string { return e.oauthToken(clerkapi.FormatJWT, time.Minute, "read") },
			afterAdvance: 2 * time.Minute, want: verifier.ErrInvalidToken, jwks: 1, verifyAt: clerktest.EndpointOAuthVerify},
		{name: "M2M opaque", prepare: func(e *env) string { return e.token(clerkapi.CreateParams{}) }, kind: verifier.KindM2M, verify: 1, verifyAt: clerktest.EndpointVerify},
		{name: "M2M JWT: local", prepare: func(e *env) string { return e.jwt(clerkapi.CreateParams{}) }, kind: verifier.KindM2M, jwks: 1, verifyAt: clerktest.EndpointVerify},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			v := e.verifier()
			tok := tc.prepare(e)
			e.clk.Advance(tc.afterAdvance)
			e.srv.ResetCalls()
			for range 3 { // the first asks; the others are cache hits, positive or negative
				got, err := v.Verify(ctx, tok, "")
				if (tc.want == nil) != (err == nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
					t.Fatalf("got %v, want %v", err, tc.want)
				}
				if err == nil && (got.Kind != tc.kind || got.Subject == "" || got.ID == "") {
					t.Fatalf("got %+v, want a Token of kind %s", got, tc.kind)
				}
			}
			if vc, j := e.srv.Calls(tc.verifyAt), e.srv.Calls(clerktest.EndpointJWKS); vc != tc.verify || j != tc.jwks {
				t.Errorf("got %d calls to %s and %d to /jwks, want %d and %d", vc, tc.verifyAt, j, tc.verify, tc.jwks)
			}
		})
	}
}

// TestAPIKeyRevokedThenInvalidated: an API key revoked at Clerk is refused on
// the next Verify after InvalidateID(its ID), as an M2M token is.
func TestAPIKeyRevokedThenInvalidated(t *testing.T) {
	e := newEnv(t)
	v := e.verifier()
	secret, id := e.apiKey("read")
	if _, err := v.Verify(context.Background(), secret, ""); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.RevokeAPIKey(id, "leaked"); err != nil {
		t.Fatal(err)
	}
	v.InvalidateID(id)
	if _, err := v.Verify(context.Background(), secret, ""); !errors.Is(err, verifier.ErrInvalidToken) {
		t.Errorf("after revoke + InvalidateID: got %v, want ErrInvalidToken", err)
	}
}

// TestOAuthJWTThousandConcurrent: 1,000 concurrent requests carrying one new
// OAuth JWT cost no verify call and at most one JWKS fetch.
func TestOAuthJWTThousandConcurrent(t *testing.T) {
	const n = 1000
	e := newEnv(t)
	v := e.verifier()
	tok := e.oauthToken(clerkapi.FormatJWT, 0, "mcp")
	e.srv.ResetCalls()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			if _, err := v.Verify(context.Background(), tok, "192.0.2.1"); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	vc, j := e.srv.Calls(clerktest.EndpointOAuthVerify), e.srv.Calls(clerktest.EndpointJWKS)
	if vc != 0 || j > 1 {
		t.Errorf("got %d OAuth verify calls and %d JWKS fetches, want 0 and at most 1", vc, j)
	}
	t.Logf("%d concurrent requests, one OAuth JWT: %d verify calls, %d JWKS fetches, %d local checks", n, vc, j, v.Stats().LocalJWTChecks)
}

// TestMachineKeyRefusesOtherKinds: a Verifier on a machine secret key
// refuses API keys and OAuth tokens without a call: Clerk would not let it
// verify them.
func TestMachineKeyRefusesOtherKinds(t *testing.T) {
	e := newEnv(t)
	v := e.verifierWithKey(e.callee.SecretKey)
	secret, _ := e.apiKey("read")
	for _, tok := range []string{secret, e.oauthToken(clerkapi.FormatOpaque, 0), e.oauthToken(clerkapi.FormatJWT, 0)} {
		if _, err := v.Verify(context.Background(), tok, ""); !errors.Is(err, verifier.ErrInvalidToken) {
			t.Errorf("got %v, want ErrInvalidToken", err)
		}
	}
	for _, ep := range []clerktest.Endpoint{clerktest.EndpointAPIKeyVerify, clerktest.EndpointOAuthVerify, clerktest.EndpointJWKS, clerktest.EndpointVerify} {
		if got := e.srv.Calls(ep); got != 0 {
			t.Errorf("got %d calls to %s, want 0", got, ep)
		}
	}
}

// BenchmarkVerifyHitKinds: a cache hit of each kind allocates nothing.
func BenchmarkVerifyHitKinds(b *testing.B) {
	e := newRealTimeEnv(b)
	v := e.verifier()
	secret, _ := e.apiKey("read")
	for _, bc := range []struct{ name, token string }{
		{"m2m=opaque", e.token(clerkapi.CreateParams{})},
		{"m2m=jwt", e.jwt(clerkapi.CreateParams{})},
		{"api_key", secret},
		{"oauth=opaque", e.oauthToken(clerkapi.FormatOpaque, 0, "read")},
		{"oauth=jwt", e.oauthToken(clerkapi.FormatJWT, 0, "read")},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			if _, err := v.Verify(ctx, bc.token, ""); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(ctx, bc.token, ""); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkOAuthJWTFirstSight: a new OAuth JWT each time, verified locally
// (keys cached): the cost of its first sight, with no call to Clerk.
func BenchmarkOAuthJWTFirstSight(b *testing.B) {
	e := newRealTimeEnv(b)
	v := e.verifier(verifier.WithCacheSize(1 << 20))
	app := e.srv.CreateOAuthApplication("agent")
	mint := func() string {
		tok, err := e.srv.CreateOAuthAccessToken(clerktest.OAuthAccessTokenParams{UserID: userA, ClientID: app.ClientID, Scopes: []string{"mcp"}})
		if err != nil {
			b.Fatal(err)
		}
		return tok
	}
	if _, err := v.Verify(context.Background(), mint(), ""); err != nil { // fetch the keys
		b.Fatal(err)
	}
	toks := make([]string, 0, 4096)
	for range cap(toks) {
		toks = append(toks, mint())
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i == len(toks) {
			b.StopTimer()
			v.Invalidate(toks[0]) // reuse the pool: each is new again
			for _, tok := range toks {
				v.Invalidate(tok)
			}
			i = 0
			b.StartTimer()
		}
		if _, err := v.Verify(context.Background(), toks[i], ""); err != nil {
			b.Fatal(err)
		}
		i++
	}
	if got := e.srv.Calls(clerktest.EndpointOAuthVerify); got != 0 {
		b.Fatalf("got %d OAuth verify calls, want 0", got)
	}
}
