package verifier

import (
	"encoding/base64"
	"regexp"
	"strings"
	"testing"

	"github.com/m2mauth/m2mauth/internal/wire"
)

// The local check, restated as regular expressions: the reference the fast
// table-driven checkSyntax is tested against.
var (
	refM2M    = regexp.MustCompile(`^mt_[A-Za-z0-9]{16,256}$`)
	refAPIKey = regexp.MustCompile(`^ak_[A-Za-z0-9_~+/=-]{16,256}$`)
	refOAuth  = regexp.MustCompile(`^oat_[A-Za-z0-9_~+/=-]{16,256}$`)
	refJWT    = regexp.MustCompile(`^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$`)
)

// refShape returns the shape the reference gives tok, and whether it
// accepts it at all.
func refShape(tok string) (shape, bool) {
	if len(tok) > wire.MaxTokenLength {
		return 0, false
	}
	for _, p := range []struct {
		prefix string
		re     *regexp.Regexp
		shape  shape
	}{{"mt_", refM2M, shapeM2M}, {"ak_", refAPIKey, shapeAPIKey}, {"oat_", refOAuth, shapeOAuth}} {
		if strings.HasPrefix(tok, p.prefix) {
			return p.shape, p.re.MatchString(tok)
		}
	}
	return shapeJWT, refJWT.MatchString(tok)
}

func TestCheckSyntaxAccepts(t *testing.T) {
	for _, tc := range []struct {
		name, token string
		want        bool
		shape       shape
	}{
		{"opaque", "mt_" + strings.Repeat("aZ9", 10) + "xy", true, shapeM2M},
		{"opaque shortest", "mt_" + strings.Repeat("a", 16), true, shapeM2M},
		{"opaque longest", "mt_" + strings.Repeat("a", 256), true, shapeM2M},
		{"opaque 15", "mt_" + strings.Repeat("a", 15), false, 0},
		{"opaque with - _", "mt_" + strings.Repeat("a", 16) + "-_", false, 0},
		{"API key", "ak_" + strings.Repeat("aZ9-_", 8), true, shapeAPIKey},
		{"API key with + / =", "ak_" + strings.Repeat("a+/", 8) + "==", true, shapeAPIKey},
		{"API key 15", "ak_" + strings.Repeat("a", 15), false, 0},
		{"API key with a dot", "ak_" + strings.Repeat("a", 16) + ".b.c", false, 0},
		{"OAuth opaque", "oat_" + strings.Repeat("0f", 16), true, shapeOAuth},
		{"OAuth 257", "oat_" + strings.Repeat("a", 257), false, 0},
		{"JWT", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJtY2gifQ.c2ln-_", true, shapeJWT},
		{"JWT one char segments", "a.b.c", true, shapeJWT},
		{"JWT trailing dot", "a.b.", false, 0},
		{"JWT leading dot", ".a.b", false, 0},
		{"mt_ JWT", "mt_a.b.c", false, 0},
		{"oat_ JWT", "oat_a.b.c", false, 0},
		{"JWT of 14 KB (150 scopes)", "eyJhbGciOiJSUzI1NiJ9." + strings.Repeat("e", 14_000) + ".c2ln", true, shapeJWT},
		{"JWT at the bound", "a." + strings.Repeat("e", wire.MaxTokenLength-4) + ".c", true, shapeJWT},
		{"JWT over the bound", "a." + strings.Repeat("e", wire.MaxTokenLength-3) + ".c", false, 0},
		{"opaque 257", "mt_" + strings.Repeat("a", 257), false, 0},
		{"a machine secret key is not a token", "sk_test_" + strings.Repeat("a", 32), false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sh, err := checkSyntax(tc.token)
			if got := err == nil; got != tc.want || (got && sh != tc.shape) {
				t.Errorf("checkSyntax(%q) = (%v, %v), want accepted %v as %v", tc.token, sh, err, tc.want, tc.shape)
			}
			if rs, ok := refShape(tc.token); ok != tc.want || (ok && rs != tc.shape) {
				t.Errorf("reference: (%v, %v), want (%v, %v) (test case is wrong)", rs, ok, tc.shape, tc.want)
			}
		})
	}
}

func TestCheckSyntaxDoesNotAllocate(t *testing.T) {
	for _, tok := range []string{"mt_" + strings.Repeat("a", 32), "ak_" + strings.Repeat("b", 40), "a.b.c", "garbage", ""} {
		if n := testing.AllocsPerRun(100, func() { _, _ = checkSyntax(tok) }); n != 0 {
			t.Errorf("checkSyntax(%q): %v allocations, want 0", tok, n)
		}
	}
}

func FuzzCheckSyntax(f *testing.F) {
	for _, s := range []string{"", "mt_" + strings.Repeat("a", 32), "a.b.c", "a..c", "mt_a b", "eyJ.eyJ.sig", "x\x00.y.z", "a.b.c.d", "mt_é", "ak_" + strings.Repeat("+", 20), "oat_" + strings.Repeat("=", 16)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		sh, err := checkSyntax(tok)
		rs, ok := refShape(tok)
		if (err == nil) != ok || (ok && sh != rs) {
			t.Fatalf("checkSyntax(%q) = (%v, %v), reference says (%v, %v)", tok, sh, err, rs, ok)
		}
		if ok && wire.IsJWT(tok) != (sh == shapeJWT) {
			t.Fatalf("wire.IsJWT(%q) = %v for an accepted token of shape %v", tok, wire.IsJWT(tok), sh)
		}
	})
}

func TestKindOfJWT(t *testing.T) {
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, tc := range []struct {
		name, header, payload string
		want                  Kind
	}{
		{"M2M by sub", `{"alg":"RS256","typ":"JWT","cat":"cl_B7d4PD333AAA"}`, `{"sub":"mch_x"}`, KindM2M},
		{"M2M by sub, foreign cat (refused later)", `{"alg":"RS256","cat":"cl_other"}`, `{"sub":"mch_x"}`, KindM2M},
		{"OAuth at+jwt", `{"alg":"RS256","typ":"at+jwt"}`, `{"sub":"user_x"}`, KindOAuth},
		{"OAuth application/at+jwt", `{"alg":"RS256","typ":"application/at+jwt"}`, `{"sub":"user_x"}`, KindOAuth},
		{"sub mch_ wins over typ", `{"alg":"RS256","typ":"at+jwt"}`, `{"sub":"mch_x"}`, KindM2M},
		{"session token", `{"alg":"RS256","typ":"JWT"}`, `{"sub":"user_x"}`, ""},
		{"sub not a string", `{"alg":"RS256"}`, `{"sub":["mch_x"]}`, ""},
		{"typ not a string", `{"alg":"RS256","typ":["at+jwt"]}`, `{"sub":"user_x"}`, ""},
		{"payload not JSON", `{"alg":"RS256","typ":"at+jwt"}`, `mch_`, KindOAuth},
		{"nothing decodes", `x`, `y`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := kindOfJWT(enc(tc.header) + "." + enc(tc.payload) + ".c2ln")
			if got != tc.want || (err == nil) != (tc.want != "") {
				t.Errorf("got (%q, %v), want %q", got, err, tc.want)
			}
		})
	}
}

// TestOpaqueKindsAgree: the middleware tells an opaque token's kind by
// wire.OpaqueKind before calling Verify; it must agree with checkSyntax.
func TestOpaqueKindsAgree(t *testing.T) {
	for _, p := range opaquePrefixes {
		tok := p.prefix + strings.Repeat("a", 32)
		sh, err := checkSyntax(tok)
		if err != nil || sh != p.shape || Kind(wire.OpaqueKind(tok)) != sh.kind() {
			t.Errorf("%s: checkSyntax (%v, %v), wire.OpaqueKind %q, want one kind", p.prefix, sh, err, wire.OpaqueKind(tok))
		}
	}
	if k := wire.OpaqueKind("a.b.c"); k != "" {
		t.Errorf("wire.OpaqueKind of a JWT: %q, want none", k)
	}
}
