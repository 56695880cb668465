package verifier_test

import (
	"context"
	"crypto/rsa"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/verifier"
)

const userA = "user_2xhFjEI5X2qWRvtV13BzSj8H6Dk"

// oauthClaimsAt returns the claims of an OAuth access token JWT as Clerk
// issues them, issued at iat for an hour.
func oauthClaimsAt(iat time.Time) map[string]any {
	return map[string]any{
		"iss": "https://clerk.example", "sub": userA, "client_id": "client_app",
		"jti": "oat_0ef5a7a33d87ed87ee7954c845d80450", "scope": "read write",
		"iat": iat.Unix(), "nbf": iat.Unix(), "exp": iat.Add(time.Hour).Unix(),
	}
}

// TestLocalOAuthJWTClaims: OAuth access token JWTs (header typ at+jwt)
// signed with a key the test serves as the JWKS: which ones the local check
// accepts, and the Token it builds, with no call to any verify endpoint.
func TestLocalOAuthJWTClaims(t *testing.T) {
	key := rsaKey(t, "instance")
	ks := newKeyServer(t, map[string]*rsa.PrivateKey{"ins_test": key})
	at := map[jose.HeaderKey]any{jose.HeaderType: "at+jwt"}
	with := func(set map[string]any, drop ...string) map[string]any {
		c := oauthClaimsAt(t0)
		for k, v := range set {
			c[k] = v
		}
		for _, k := range drop {
			delete(c, k)
		}
		return c
	}
	for _, tc := range []struct {
		name       string
		hdr        map[jose.HeaderKey]any
		claims     map[string]any
		wantErr    string // reason; "" for valid
		wantScopes []string
		wantAud    []string
		wantClaims string
	}{
		{name: "scope string", hdr: at, claims: with(nil), wantScopes: []string{"read", "write"}},
		{name: "application/at+jwt", hdr: map[jose.HeaderKey]any{jose.HeaderType: "application/at+jwt"}, claims: with(nil), wantScopes: []string{"read", "write"}},
		{name: "scp array", hdr: at, claims: with(map[string]any{"scp": []string{"mcp"}}, "scope"), wantScopes: []string{"mcp"}},
		{name: "no scope", hdr: at, claims: with(nil, "scope")},
		{name: "aud string", hdr: at, claims: with(map[string]any{"aud": "https://api.example/mcp"}), wantScopes: []string{"read", "write"}, wantAud: []string{"https://api.example/mcp"}},
		{name: "aud array", hdr: at, claims: with(map[string]any{"aud": []string{"a", "b"}}), wantScopes: []string{"read", "write"}, wantAud: []string{"a", "b"}},
		{name: "custom claims", hdr: at, claims: with(map[string]any{"act": map[string]string{"sub": "x"}}), wantScopes: []string{"read", "write"}, wantClaims: `{"act":{"sub":"x"}}`},
		{name: "no jti", hdr: at, claims: with(nil, "jti"), wantScopes: []string{"read", "write"}},
		{name: "typ JWT: no kind", hdr: nil, claims: with(nil), wantErr: "neither an M2M token nor an OAuth"},
		{name: "no exp", hdr: at, claims: with(nil, "exp"), wantErr: "without an expiry"},
		{name: "expired", hdr: at, claims: with(map[string]any{"exp": t0.Add(-5 * time.Second).Unix()}), wantErr: "expired"},
		{name: "not yet valid", hdr: at, claims: with(map[string]any{"nbf": t0.Add(6 * time.Second).Unix()}), wantErr: "not yet valid"},
		{name: "subject an org", hdr: at, claims: with(map[string]any{"sub": "org_123"}), wantErr: "user ID"},
		{name: "subject user_ with a space", hdr: at, claims: with(map[string]any{"sub": "user_1 2"}), wantErr: "user ID"},
		{name: "no client_id", hdr: at, claims: with(nil, "client_id"), wantErr: "client_id"},
		{name: "client_id not a string", hdr: at, claims: with(map[string]any{"client_id": 7}), wantErr: "client_id"},
		{name: "jti an M2M token ID", hdr: at, claims: with(map[string]any{"jti": "mt_0ef5a7a33d87ed87ee7954c845d80450"}), wantErr: "OAuth token ID"},
		{name: "scp not strings", hdr: at, claims: with(map[string]any{"scp": "read"}), wantErr: "scope"},
		{name: "scope not a string", hdr: at, claims: with(map[string]any{"scope": []string{"read"}}), wantErr: "scope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := ks.verifier(t, clerktest.NewClock(t0))
			tok, err := v.Verify(context.Background(), signJWT(t, key, jose.RS256, "ins_test", tc.hdr, tc.claims), "")
			if tc.wantErr != "" {
				var inv *verifier.InvalidTokenError
				if !errors.As(err, &inv) || !strings.Contains(inv.Reason, tc.wantErr) {
					t.Fatalf("got %v, want invalid: %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			jti, _ := tc.claims["jti"].(string)
			if tok.Kind != verifier.KindOAuth || tok.Subject != userA || tok.ID != jti || tok.ClientID != "client_app" ||
				tok.Format != clerkapi.FormatJWT || !tok.CreatedAt.Equal(t0) || !tok.ExpiresAt.Equal(t0.Add(time.Hour)) {
				t.Errorf("got %+v, want an OAuth JWT of %s, client_app, ID %q, an hour long", tok, userA, jti)
			}
			if !reflect.DeepEqual(tok.Scopes, tc.wantScopes) || !reflect.DeepEqual(tok.Audience, tc.wantAud) {
				t.Errorf("got scopes %q audience %q, want %q %q", tok.Scopes, tok.Audience, tc.wantScopes, tc.wantAud)
			}
			if string(tok.Claims) != tc.wantClaims {
				t.Errorf("got claims %s, want %s", tok.Claims, tc.wantClaims)
			}
			if !tok.IsUser() || tok.IsMachine() || tok.IsOrganization() {
				t.Errorf("IsUser/IsMachine/IsOrganization of %s: %v %v %v", tok.Subject, tok.IsUser(), tok.IsMachine(), tok.IsOrganization())
			}
		})
	}
	if n := ks.other.Load(); n != 0 {
		t.Errorf("got %d requests other than GET /jwks, want 0", n)
	}
}

// TestOAuthJWTWithMachineKey: a machine secret key can verify M2M tokens
// only: an OAuth JWT is refused at once, without a call to Clerk (neither
// verify nor JWKS), and not cached.
func TestOAuthJWTWithMachineKey(t *testing.T) {
	e := newEnv(t)
	v := e.verifierWithKey(e.callee.SecretKey)
	tok := signJWT(t, rsaKey(t, "other"), jose.RS256, "ins_x", map[jose.HeaderKey]any{jose.HeaderType: "at+jwt"}, oauthClaimsAt(t0))
	for _, kind := range []verifier.Kind{verifier.KindAPIKey, verifier.KindOAuth} {
		if v.Verifies(kind) {
			t.Errorf("Verifies(%s) with a machine key: got true", kind)
		}
	}
	for range 3 {
		_, err := v.Verify(context.Background(), tok, "")
		var inv *verifier.InvalidTokenError
		if !errors.As(err, &inv) || !strings.Contains(inv.Reason, "machine secret key cannot verify") {
			t.Fatalf("got %v, want invalid: a kind a machine key cannot verify", err)
		}
	}
	if vc, j := e.verifyCalls(), e.jwksCalls(); vc != 0 || j != 0 {
		t.Errorf("got %d verify and %d JWKS calls, want 0 and 0", vc, j)
	}
	if st := v.Stats(); st.CacheEntries != 0 {
		t.Errorf("got %d cache entries, want 0", st.CacheEntries)
	}
}
