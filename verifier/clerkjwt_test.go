package verifier_test

import (
	"context"
	"crypto/rsa"
	"encoding/json"
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

// clerkKID is a kid shaped like Clerk's instance keys.
const clerkKID = "ins_2xhFjEI5X2qWRvtV13BzSj8H6Dk"

// clerkShape describes an M2M JWT as Clerk issues it (clerk/javascript issue
// #8680, @clerk/backend's fixtures): RS256, kid ins_…, typ JWT, cat
// cl_B7d4PD333AAA; payload iss, sub, aud (array of the scoped machines),
// scopes (the same, space-separated), jti, iat, exp and custom claims at the
// top level; no nbf.
type clerkShape struct {
	scopes    int    // how many machines the token is scoped to
	jti       string // "" leaves jti out
	audString bool   // aud as a single string (the first scope) instead of an array
	noScopes  bool   // leave out the scopes claim (scopes then come from aud)
}

// scopedMachines returns n machine IDs shaped like Clerk's (mch_ + 27 base62).
func scopedMachines(n int) []string {
	const b62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	ids := make([]string, n)
	for i := range ids {
		id := []byte("mch_2yGkLpQ7Y3rXSwtU24CzTk9I7Em")
		for j, k := len(id)-1, i; k > 0; j, k = j-1, k/62 {
			id[j] = b62[k%62]
		}
		ids[i] = string(id)
	}
	return ids
}

// build signs the token with key and returns it with the scopes it carries.
func (c clerkShape) build(t testing.TB, key *rsa.PrivateKey, iat time.Time) (string, []string) {
	t.Helper()
	scopes := scopedMachines(c.scopes)
	claims := map[string]any{
		"iss":                "https://clerk.example.accounts.dev",
		"sub":                "mch_2xhFjEI5X2qWRvtV13BzSj8H6Dk",
		"aud":                scopes,
		"scopes":             strings.Join(scopes, " "),
		"iat":                iat.Unix(),
		"exp":                iat.Add(time.Hour).Unix(),
		"important_metadata": "Some useful data",
	}
	if c.jti != "" {
		claims["jti"] = c.jti
	}
	if c.audString {
		claims["aud"] = scopes[0]
	}
	if c.noScopes {
		delete(claims, "scopes")
		if c.audString {
			scopes = scopes[:1]
		}
	}
	return signJWT(t, key, jose.RS256, clerkKID, map[jose.HeaderKey]any{"cat": verifier.JWTCategory}, claims), scopes
}

const (
	hexJTI    = "mt_f7f0ba8c3b4843ce7d85fcdd5e71853e"
	base62JTI = "mt_2xKa9Bgv7NxMRDFyQw8LpZ3cTmU1vHjE" // @clerk/backend's fixture
)

var clerkShapes = []struct {
	name    string
	shape   clerkShape
	minSize int // the token is at least this long, as Clerk's are
}{
	{"1 scope", clerkShape{scopes: 1, jti: hexJTI}, 0},
	{"40 scopes", clerkShape{scopes: 40, jti: hexJTI}, 4096},
	{"150 scopes", clerkShape{scopes: 150, jti: hexJTI}, 13_000},
	{"1 scope, no jti", clerkShape{scopes: 1}, 0},
	{"40 scopes, no jti", clerkShape{scopes: 40}, 4096},
	{"150 scopes, no jti", clerkShape{scopes: 150}, 13_000},
	{"1 scope, base62 jti", clerkShape{scopes: 1, jti: base62JTI}, 0},
	{"40 scopes, base62 jti", clerkShape{scopes: 40, jti: base62JTI}, 4096},
	{"150 scopes, base62 jti", clerkShape{scopes: 150, jti: base62JTI}, 13_000},
	{"aud a string", clerkShape{scopes: 1, jti: base62JTI, audString: true}, 0},
	{"aud a string, no scopes claim", clerkShape{scopes: 1, jti: hexJTI, audString: true, noScopes: true}, 0},
	{"aud an array of 150, no scopes claim", clerkShape{scopes: 150, jti: hexJTI, noScopes: true}, 6500},
}

// TestClerkShapedJWTSyntax: the local syntax check lets every shape of JWT
// Clerk issues through.
func TestClerkShapedJWTSyntax(t *testing.T) {
	key := rsaKey(t, "instance")
	for _, tc := range clerkShapes {
		t.Run(tc.name, func(t *testing.T) {
			tok, _ := tc.shape.build(t, key, t0)
			if len(tok) < tc.minSize || len(tok) > verifier.MaxTokenLength {
				t.Fatalf("got a %d-byte token, want %d to %d (the size of Clerk's)", len(tok), tc.minSize, verifier.MaxTokenLength)
			}
			if err := verifier.CheckSyntax(tok); err != nil {
				t.Errorf("CheckSyntax of a %d-byte Clerk JWT: got %v, want nil", len(tok), err)
			}
		})
	}
}

// TestClerkShapedJWTLocal: every shape of JWT Clerk issues verifies locally
// into the Token Clerk's verify endpoint would give, with one JWKS call and
// no other call.
func TestClerkShapedJWTLocal(t *testing.T) {
	key := rsaKey(t, "instance")
	ks := newKeyServer(t, map[string]*rsa.PrivateKey{clerkKID: key})
	v := ks.verifier(t, clerktest.NewClock(t0))
	for _, tc := range clerkShapes {
		t.Run(tc.name, func(t *testing.T) {
			tok, scopes := tc.shape.build(t, key, t0)
			got, err := v.Verify(context.Background(), tok, "")
			if err != nil {
				t.Fatalf("Verify of a %d-byte Clerk JWT: got %v, want the token", len(tok), err)
			}
			if got.ID != tc.shape.jti || got.Subject != "mch_2xhFjEI5X2qWRvtV13BzSj8H6Dk" || got.Format != clerkapi.FormatJWT {
				t.Errorf("got ID %q subject %q format %q, want %q mch_2xhFjEI5X2qWRvtV13BzSj8H6Dk jwt", got.ID, got.Subject, got.Format, tc.shape.jti)
			}
			if !reflect.DeepEqual(got.Scopes, scopes) || !got.HasScope(scopes[len(scopes)-1]) {
				t.Errorf("got %d scopes %.60q…, want %d %.60q…", len(got.Scopes), got.Scopes, len(scopes), scopes)
			}
			if !got.CreatedAt.Equal(t0) || !got.ExpiresAt.Equal(t0.Add(time.Hour)) {
				t.Errorf("got created %v expires %v, want %v %v", got.CreatedAt, got.ExpiresAt, t0, t0.Add(time.Hour))
			}
			var claims map[string]any
			if err := json.Unmarshal(got.Claims, &claims); err != nil || !reflect.DeepEqual(claims, map[string]any{"important_metadata": "Some useful data"}) {
				t.Errorf("got claims %s (%v), want only the custom claim", got.Claims, err)
			}
		})
	}
	if j, o := ks.jwks.Load(), ks.other.Load(); j != 1 || o != 0 {
		t.Errorf("got %d JWKS and %d other calls, want 1 and 0", j, o)
	}
}

// TestClerkShapedJWTBounds: what stays refused around the shapes above.
func TestClerkShapedJWTBounds(t *testing.T) {
	key := rsaKey(t, "instance")
	ks := newKeyServer(t, map[string]*rsa.PrivateKey{clerkKID: key})
	v := ks.verifier(t, clerktest.NewClock(t0))
	base := map[string]any{"sub": "mch_2xhFjEI5X2qWRvtV13BzSj8H6Dk", "iat": t0.Unix(), "exp": t0.Add(time.Hour).Unix()}
	with := func(k string, val any) map[string]any {
		c := map[string]any{k: val}
		for bk, bv := range base {
			c[bk] = bv
		}
		return c
	}
	cat := map[jose.HeaderKey]any{"cat": verifier.JWTCategory}
	for _, tc := range []struct {
		name, token, reason string
	}{
		{"jti mt_ alone", signJWT(t, key, jose.RS256, clerkKID, cat, with("jti", "mt_")), "jti"},
		{"jti of another kind", signJWT(t, key, jose.RS256, clerkKID, cat, with("jti", "oat_2xKa9Bgv7NxMRDFyQw8LpZ3cTmU1vHjE")), "jti"},
		{"jti with a space", signJWT(t, key, jose.RS256, clerkKID, cat, with("jti", "mt_2xKa9 Bgv7")), "jti"},
		{"jti too long", signJWT(t, key, jose.RS256, clerkKID, cat, with("jti", "mt_"+strings.Repeat("a", 200))), "jti"},
		{"over MaxTokenLength", signJWT(t, key, jose.RS256, clerkKID, cat, with("pad", strings.Repeat("p", verifier.MaxTokenLength))), "too long"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.Verify(context.Background(), tc.token, "")
			var inv *verifier.InvalidTokenError
			if !errors.As(err, &inv) || !strings.Contains(inv.Reason, tc.reason) {
				t.Errorf("got %v, want invalid about %q", err, tc.reason)
			}
		})
	}
}
