package verifier

import (
	"regexp"
	"strings"
	"testing"

	"github.com/m2mauth/m2mauth/internal/wire"
)

// The local check, restated as regular expressions: the reference the fast
// table-driven checkSyntax is tested against.
var (
	refOpaque = regexp.MustCompile(`^mt_[A-Za-z0-9]{16,256}$`)
	refJWT    = regexp.MustCompile(`^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$`)
)

func refAccepts(tok string) bool {
	return len(tok) <= MaxTokenLength && (refOpaque.MatchString(tok) || (!strings.HasPrefix(tok, "mt_") && refJWT.MatchString(tok)))
}

func TestCheckSyntaxAccepts(t *testing.T) {
	for _, tc := range []struct {
		name, token string
		want        bool
	}{
		{"opaque", "mt_" + strings.Repeat("aZ9", 10) + "xy", true},
		{"opaque shortest", "mt_" + strings.Repeat("a", 16), true},
		{"opaque longest", "mt_" + strings.Repeat("a", 256), true},
		{"opaque 15", "mt_" + strings.Repeat("a", 15), false},
		{"JWT", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJtY2gifQ.c2ln-_", true},
		{"JWT one char segments", "a.b.c", true},
		{"JWT trailing dot", "a.b.", false},
		{"JWT leading dot", ".a.b", false},
		{"mt_ JWT", "mt_a.b.c", false},
		{"JWT of 14 KB (150 scopes)", "eyJhbGciOiJSUzI1NiJ9." + strings.Repeat("e", 14_000) + ".c2ln", true},
		{"JWT at MaxTokenLength", "a." + strings.Repeat("e", MaxTokenLength-4) + ".c", true},
		{"JWT over MaxTokenLength", "a." + strings.Repeat("e", MaxTokenLength-3) + ".c", false},
		{"opaque 257", "mt_" + strings.Repeat("a", 257), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := checkSyntax(tc.token) == nil; got != tc.want {
				t.Errorf("checkSyntax(%q) accepts = %v, want %v", tc.token, got, tc.want)
			}
			if got := refAccepts(tc.token); got != tc.want {
				t.Errorf("reference accepts = %v, want %v (test case is wrong)", got, tc.want)
			}
		})
	}
}

func FuzzCheckSyntax(f *testing.F) {
	for _, s := range []string{"", "mt_" + strings.Repeat("a", 32), "a.b.c", "a..c", "mt_a b", "eyJ.eyJ.sig", "x\x00.y.z", "a.b.c.d", "mt_é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		got := checkSyntax(tok) == nil
		if want := refAccepts(tok); got != want {
			t.Fatalf("checkSyntax(%q) accepts = %v, reference says %v", tok, got, want)
		}
		if got && wire.IsJWT(tok) == strings.HasPrefix(tok, "mt_") {
			t.Fatalf("wire.IsJWT(%q) = %v for an accepted token", tok, wire.IsJWT(tok))
		}
	})
}
