package middleware_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/m2mauth/m2mauth/internal/wire"
	"github.com/m2mauth/m2mauth/middleware"
)

const goodToken = "mt_0123456789abcdefghijklmnopqrstuv"

func requestWith(values ...string) *http.Request {
	r, _ := http.NewRequest(http.MethodGet, "http://svc/api", nil)
	for _, v := range values {
		r.Header.Add("Authorization", v)
	}
	return r
}

func TestBearerToken(t *testing.T) {
	jwt := "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJtY2hfeCJ9.c2ln-_"
	for _, tc := range []struct {
		name    string
		headers []string
		want    string
		wantErr string // Reason of the *MissingTokenError, "" for success
	}{
		{"bearer", []string{"Bearer " + goodToken}, goodToken, ""},
		{"lower-case scheme", []string{"bearer " + goodToken}, goodToken, ""},
		{"upper-case scheme", []string{"BEARER " + goodToken}, goodToken, ""},
		{"several spaces", []string{"Bearer    " + goodToken}, goodToken, ""},
		{"surrounding whitespace", []string{" \tBearer " + goodToken + " \t"}, goodToken, ""},
		{"jwt", []string{"Bearer " + jwt}, jwt, ""},
		{"token68 padding", []string{"Bearer abc+/~.-_=="}, "abc+/~.-_==", ""},
		{"no header", nil, "", "no bearer token"},
		{"basic scheme", []string{"Basic dXNlcjpwYXNz"}, "", "authorization scheme is not Bearer"},
		{"scheme prefix only", []string{"Bearerx " + goodToken}, "", "authorization scheme is not Bearer"},
		{"short value", []string{"Bear"}, "", "authorization scheme is not Bearer"},
		{"scheme without token", []string{"Bearer"}, "", "empty bearer token"},
		{"scheme and spaces", []string{"Bearer    "}, "", "empty bearer token"},
		{"empty header", []string{""}, "", "authorization scheme is not Bearer"},
		{"two headers", []string{"Bearer " + goodToken, "Bearer " + goodToken}, "", "more than one Authorization header"},
		{"two headers, one empty", []string{"Bearer " + goodToken, ""}, "", "more than one Authorization header"},
		{"too large", []string{"Bearer " + strings.Repeat("a", wire.MaxAuthorizationLen)}, "", "Authorization header too large"},
		{"JWT of 150 scopes (14 KB)", []string{"Bearer " + bigJWT(14_000)}, bigJWT(14_000), ""},
		{"token at wire.MaxTokenLength", []string{"Bearer  " + bigJWT(wire.MaxTokenLength)}, bigJWT(wire.MaxTokenLength), ""},
		{"header at the limit", []string{"Bearer " + strings.Repeat(" ", wire.MaxAuthorizationLen-len("Bearer ")-len(goodToken)) + goodToken}, goodToken, ""},
		{"header one byte over the limit", []string{"Bearer " + strings.Repeat(" ", wire.MaxAuthorizationLen-len("Bearer ")-len(goodToken)+1) + goodToken}, "", "Authorization header too large"},
		{"token with space", []string{"Bearer abc def"}, "", "malformed bearer token"},
		{"token with tab", []string{"Bearer abc\tdef"}, "", "malformed bearer token"},
		{"token with comma", []string{"Bearer abc,def"}, "", "malformed bearer token"},
		{"token with quote", []string{`Bearer "abc"`}, "", "malformed bearer token"},
		{"padding inside", []string{"Bearer ab=c"}, "", "malformed bearer token"},
		{"only padding", []string{"Bearer =="}, "", "malformed bearer token"},
		{"control char", []string{"Bearer abc\x00"}, "", "malformed bearer token"},
		{"non-ASCII", []string{"Bearer tökén"}, "", "malformed bearer token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := middleware.BearerToken(requestWith(tc.headers...))
			if tc.wantErr == "" {
				if err != nil || got != tc.want {
					t.Fatalf("got (%q, %v), want (%q, nil)", got, err, tc.want)
				}
				return
			}
			var me *middleware.MissingTokenError
			if !errors.As(err, &me) || !errors.Is(err, middleware.ErrMissingToken) {
				t.Fatalf("got (%q, %v), want a *MissingTokenError matching ErrMissingToken", got, err)
			}
			if me.Reason != tc.wantErr || got != "" {
				t.Fatalf("got (%q, reason %q), want (\"\", reason %q)", got, me.Reason, tc.wantErr)
			}
		})
	}
}

// bigJWT returns a JWT-shaped token of exactly n bytes (n >= 8).
func bigJWT(n int) string {
	const head, sig = "eyJhbGciOiJSUzI1NiJ9.", ".c2ln"
	return head + strings.Repeat("e", n-len(head)-len(sig)) + sig
}

func TestBearerTokenDoesNotAllocate(t *testing.T) {
	r := requestWith("Bearer " + goodToken)
	if n := testing.AllocsPerRun(100, func() { _, _ = middleware.BearerToken(r) }); n != 0 {
		t.Fatalf("got %v allocations, want 0", n)
	}
}
