package middleware_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/m2mauth/m2mauth/internal/wire"
	"github.com/m2mauth/m2mauth/middleware"
	"github.com/m2mauth/m2mauth/verifier"
)

// FuzzExtractBearer feeds arbitrary Authorization headers to BearerToken. The
// input is split on '\n' into several header values. BearerToken must not
// panic, must never accept more than one header, and a token it returns must
// be non-empty token68 (no spaces, no control characters) that comes back
// unchanged from a canonical "Bearer <token>" header.
func FuzzExtractBearer(f *testing.F) {
	for _, s := range []string{
		"Bearer mt_0123456789abcdefghijklmnopqrstuv",
		"bearer a.b.c",
		"Bearer",
		"Bearer ",
		"Basic dXNlcjpwYXNz",
		"Bearer a\nBearer a",
		"Bearer a b",
		"Bearer ==",
		"Bearer a==",
		" Bearer\ta",
		"Bearer \x00",
		"BEARER a\x7f",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		values := strings.Split(in, "\n")
		r, _ := http.NewRequest(http.MethodGet, "http://svc/", nil)
		r.Header["Authorization"] = values
		tok, err := middleware.BearerToken(r)
		if err != nil {
			if tok != "" {
				t.Fatalf("got token %q with error %v, want none", tok, err)
			}
			return
		}
		if len(values) != 1 {
			t.Fatalf("accepted %d Authorization headers, want refusal", len(values))
		}
		if tok == "" {
			t.Fatal("got empty token without error")
		}
		for i := 0; i < len(tok); i++ {
			if c := tok[i]; c <= ' ' || c >= 0x7f || c == ',' || c == '"' {
				t.Fatalf("token %q has byte %#x at %d", tok, c, i)
			}
		}
		if len(values[0]) > wire.MaxAuthorizationLen {
			t.Fatalf("accepted a %d-byte header, limit %d", len(values[0]), wire.MaxAuthorizationLen)
		}
		r.Header["Authorization"] = []string{"Bearer " + tok}
		again, err := middleware.BearerToken(r)
		if err != nil || again != tok {
			t.Fatalf("round trip: got (%q, %v), want (%q, nil)", again, err, tok)
		}
	})
}

// FuzzReason answers arbitrary reasons of an invalid token and a policy
// refusal: every header must be printable ASCII, and the challenge's
// error_description quoted-string-safe, at most 200 bytes and the same text
// as the JSON body's.
func FuzzReason(f *testing.F) {
	for _, s := range []string{"token expired", "not an M2M token (neither mt_… nor a JWT)", `a"b\c`, "\xff\x00\n", ""} {
		f.Add(s)
	}
	a, err := middleware.New(&fixedVerifier{scoped: true})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, reason string) {
		for _, err := range []error{&verifier.InvalidTokenError{Reason: reason}, middleware.Forbidden(reason)} {
			writeAndCheck(t, a, err)
		}
	})
}
