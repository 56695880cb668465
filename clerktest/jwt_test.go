package clerktest_test

import (
	"encoding/base64"
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/clerktest/internal/testkit"
)

// TestJWTVerifiesWithJWKS decodes a JWT-format token with go-jose against the
// key set GET /jwks serves, and checks Clerk's header and payload.
func TestJWTVerifiesWithJWKS(t *testing.T) {
	f := testkit.NewFixture(t)
	ctx := t.Context()
	tok, err := f.AsCaller.CreateToken(ctx, clerkapi.CreateParams{TokenFormat: clerkapi.FormatJWT,
		SecondsUntilExpiration: clerkapi.Int64(300), Claims: map[string]any{"tier": "gold", "n": 3}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(tok.Token, ".") != 2 || !clerkapi.TokenIDPattern.MatchString(tok.ID) || !tok.LastUsedAt.IsZero() {
		t.Fatalf("got %+v, want a compact JWT with an mt_ ID and no last_used_at", tok)
	}
	set, err := f.Admin.JWKS(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if local := f.Srv.JWKS(); len(local.Keys) != 1 || local.Keys[0] != set.Keys[0] {
		t.Errorf("Server.JWKS: got %+v, want what GET /jwks serves, %+v", local, set)
	}
	raw, _ := json.Marshal(set)
	var keys jose.JSONWebKeySet
	if err := json.Unmarshal(raw, &keys); err != nil {
		t.Fatalf("JWKS does not decode as a JSON Web Key Set: %v", err)
	}
	if len(keys.Keys) != 1 || set.Keys[0].Kty != "RSA" || set.Keys[0].Use != "sig" || set.Keys[0].Alg != "RS256" || set.Keys[0].Kid != f.Srv.InstanceID() {
		t.Fatalf("got JWKS %+v, want one RSA RS256 signing key with kid %s", set, f.Srv.InstanceID())
	}

	parsed, err := jwt.ParseSigned(tok.Token, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	h := parsed.Headers[0]
	if h.Algorithm != "RS256" || h.KeyID != f.Srv.InstanceID() || !strings.HasPrefix(h.KeyID, "ins_") ||
		h.ExtraHeaders["typ"] != "JWT" || h.ExtraHeaders["cat"] != clerktest.TokenCategory {
		t.Errorf("got header %+v, want alg RS256, kid ins_…, typ JWT, cat %s", h, clerktest.TokenCategory)
	}
	k := keys.Key(h.KeyID)
	if len(k) != 1 {
		t.Fatalf("no JWKS key for kid %q", h.KeyID)
	}
	var std jwt.Claims
	var payload map[string]any
	if err := parsed.Claims(k[0].Key, &std, &payload); err != nil {
		t.Fatalf("signature does not verify with the JWKS key: %v", err)
	}
	if err := std.Validate(jwt.Expected{Issuer: strings.TrimSuffix(f.Srv.URL, "/v1"), Subject: f.Caller.ID, ID: tok.ID, Time: testkit.T0}); err != nil {
		t.Errorf("standard claims: %v", err)
	}
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"iat", payload["iat"], float64(testkit.T0.Unix())},
		{"exp", payload["exp"], float64(testkit.T0.Add(300 * time.Second).Unix())},
		{"scopes", payload["scopes"], f.Receiver.ID},
		{"custom claim tier", payload["tier"], "gold"},
		{"custom claim n", payload["n"], float64(3)},
	} {
		if c.got != c.want {
			t.Errorf("payload %s: got %v, want %v", c.name, c.got, c.want)
		}
	}
	if aud, ok := payload["aud"].([]any); !ok || len(aud) != 1 || aud[0] != f.Receiver.ID {
		t.Errorf("payload aud: got %#v, want the array [%s]", payload["aud"], f.Receiver.ID)
	}

	// Clerk's verify endpoint accepts it too and reports the custom claims.
	v, err := f.AsRecv.VerifyToken(ctx, tok.Token)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	var claims map[string]any
	json.Unmarshal(v.Claims, &claims)
	if v.ID != tok.ID || v.Subject != f.Caller.ID || len(claims) != 2 || claims["tier"] != "gold" ||
		!v.Expiration.Equal(testkit.T0.Add(300*time.Second)) || len(v.Scopes) != 1 {
		t.Errorf("verify: got %+v (claims %s), want the token's ID, subject, custom claims and expiry", v, v.Claims)
	}
}

func TestJWTWithoutScopesOrClaims(t *testing.T) {
	f := testkit.NewFixture(t)
	tok := testkit.MustCreate(t, f.Srv, f.Loner.ID, clerkapi.CreateParams{TokenFormat: clerkapi.FormatJWT})
	parsed, err := jwt.ParseSigned(tok.Token, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	var payload map[string]any
	if err := parsed.UnsafeClaimsWithoutVerification(&payload); err != nil {
		t.Fatal(err)
	}
	if _, ok := payload["scopes"]; ok {
		t.Errorf("got scopes %v, want none for a machine scoped to nothing", payload["scopes"])
	}
	v, err := f.Admin.VerifyToken(t.Context(), tok.Token)
	if err != nil || string(v.Claims) != "null" || len(v.Scopes) != 0 {
		t.Errorf("verify: got %+v, %v; want claims null and no scopes", v, err)
	}
}

func TestJWTFromAnotherInstanceIsRejected(t *testing.T) {
	f := testkit.NewFixture(t)
	other := clerktest.NewServer()
	defer other.Close()
	m := other.CreateMachine("m", other.CreateMachine("r").ID)
	foreign := testkit.MustCreate(t, other, m.ID, clerkapi.CreateParams{TokenFormat: clerkapi.FormatJWT})
	if _, err := f.Admin.VerifyToken(t.Context(), foreign.Token); statusOf(err) != 404 {
		t.Errorf("got %v, want 404 for a JWT signed by another instance", err)
	}
}

// TestJWTClaimSet checks that a JWT-format token carries exactly the header
// and claims of a real Clerk M2M JWT: alg, kid, typ, cat; iss, sub, aud (an
// array), scopes (space-separated), jti, iat, exp and the custom claims at the
// top level; no nbf. Custom claims named like reserved ones do not leak.
func TestJWTClaimSet(t *testing.T) {
	f := testkit.NewFixture(t)
	other := f.Srv.CreateMachine("other")
	if err := f.Srv.AddScope(f.Caller.ID, other.ID); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		machine    *clerktest.Machine
		claims     map[string]any
		wantKeys   []string
		wantScoped []string
	}{
		{"two scopes, custom claims", f.Caller, map[string]any{"tier": "gold", "team": map[string]any{"id": 7}},
			[]string{"aud", "exp", "iat", "iss", "jti", "scopes", "sub", "team", "tier"}, []string{f.Receiver.ID, other.ID}},
		{"reserved names in custom claims", f.Caller, map[string]any{"nbf": 1, "aud": "x", "scopes": "y", "iss": "z", "jti": "j", "sub": "s", "iat": 2, "exp": 3},
			[]string{"aud", "exp", "iat", "iss", "jti", "scopes", "sub"}, []string{f.Receiver.ID, other.ID}},
		{"no custom claims", f.Caller, nil,
			[]string{"aud", "exp", "iat", "iss", "jti", "scopes", "sub"}, []string{f.Receiver.ID, other.ID}},
		{"scoped to nothing", f.Loner, nil,
			[]string{"exp", "iat", "iss", "jti", "sub"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := f.Srv.CreateToken(tc.machine.ID, clerkapi.CreateParams{TokenFormat: clerkapi.FormatJWT,
				SecondsUntilExpiration: clerkapi.Int64(600), Claims: tc.claims})
			if err != nil {
				t.Fatal(err)
			}
			parts := strings.Split(tok.Token, ".")
			if len(parts) != 3 {
				t.Fatalf("got %d segments, want 3", len(parts))
			}
			var header, payload map[string]any
			for _, p := range []struct {
				seg string
				dst *map[string]any
			}{{parts[0], &header}, {parts[1], &payload}} {
				b, err := base64.RawURLEncoding.DecodeString(p.seg)
				if err != nil {
					t.Fatalf("segment is not base64url: %v", err)
				}
				if err := json.Unmarshal(b, p.dst); err != nil {
					t.Fatalf("segment is not a JSON object: %v", err)
				}
			}
			wantHeader := map[string]any{"alg": "RS256", "kid": f.Srv.InstanceID(), "typ": "JWT", "cat": clerktest.TokenCategory}
			if !reflect.DeepEqual(header, wantHeader) {
				t.Errorf("got header %v, want %v", header, wantHeader)
			}
			if got := slices.Sorted(maps.Keys(payload)); !slices.Equal(got, tc.wantKeys) {
				t.Errorf("got claims %v, want exactly %v", got, tc.wantKeys)
			}
			for _, c := range []struct {
				name      string
				got, want any
			}{
				{"iss", payload["iss"], strings.TrimSuffix(f.Srv.URL, "/v1")},
				{"sub", payload["sub"], tc.machine.ID},
				{"jti", payload["jti"], tok.ID},
				{"iat", payload["iat"], float64(testkit.T0.Unix())},
				{"exp", payload["exp"], float64(testkit.T0.Add(600 * time.Second).Unix())},
			} {
				if c.got != c.want {
					t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
				}
			}
			if tc.wantScoped != nil {
				var aud []string
				for _, a := range payload["aud"].([]any) {
					aud = append(aud, a.(string))
				}
				if !slices.Equal(aud, tc.wantScoped) {
					t.Errorf("aud: got %v, want the array %v", payload["aud"], tc.wantScoped)
				}
				if got, want := payload["scopes"], strings.Join(tc.wantScoped, " "); got != want {
					t.Errorf("scopes: got %v, want %q", got, want)
				}
			}
			for k, v := range tc.claims {
				if !slices.Contains([]string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "scopes"}, k) &&
					!reflect.DeepEqual(payload[k], jsonRoundTrip(t, v)) {
					t.Errorf("custom claim %s: got %v, want %v", k, payload[k], v)
				}
			}
			v, err := f.Admin.VerifyToken(t.Context(), tok.Token)
			if err != nil {
				t.Fatalf("verify: %v", err)
			}
			if !slices.Equal(v.Scopes, tc.wantScoped) && !(len(v.Scopes) == 0 && tc.wantScoped == nil) {
				t.Errorf("verify scopes: got %v, want %v", v.Scopes, tc.wantScoped)
			}
		})
	}
}

// jsonRoundTrip returns v as encoding/json decodes it into an any.
func jsonRoundTrip(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}
