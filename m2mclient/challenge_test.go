package m2mclient

import (
	"net/http"
	"strings"
	"testing"
)

func TestInvalidTokenChallenge(t *testing.T) {
	for _, tc := range []struct {
		name   string
		values []string
		want   bool
	}{
		{"none", nil, false},
		{"quoted", []string{`Bearer error="invalid_token"`}, true},
		{"with realm and description", []string{`Bearer realm="orders", error="invalid_token", error_description="token revoked"`}, true},
		{"unquoted", []string{`Bearer error=invalid_token`}, true},
		{"scheme case-insensitive", []string{`bearer ERROR="invalid_token"`}, true},
		{"escaped quote in description first", []string{`Bearer error_description="a \"quoted\", text", error="invalid_token"`}, true},
		{"insufficient scope", []string{`Bearer error="insufficient_scope"`}, false},
		{"realm only", []string{`Bearer realm="orders"`}, false},
		{"other scheme", []string{`Basic realm="x", error="invalid_token"`}, false},
		{"bearer after basic", []string{`Basic realm="x", Bearer error="invalid_token"`}, true},
		{"second header value", []string{`Basic realm="x"`, `Bearer error="invalid_token"`}, true},
		{"token68 before bearer", []string{`Negotiate abc==, Bearer error="invalid_token"`}, true},
		{"invalid_token in description only", []string{`Bearer error_description="invalid_token"`}, false},
		{"value case differs", []string{`Bearer error="INVALID_TOKEN"`}, false},
		{"unterminated quote", []string{`Bearer error="invalid_token`}, false},
		{"garbage", []string{`@@@ error="invalid_token"`}, false},
		{"huge", []string{`Bearer realm="` + strings.Repeat("x", 1<<20) + `", error="invalid_token"`}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range tc.values {
				h.Add("WWW-Authenticate", v)
			}
			if got := invalidTokenChallenge(h); got != tc.want {
				t.Errorf("invalidTokenChallenge(%q) = %v, want %v", tc.values, got, tc.want)
			}
		})
	}
}

func FuzzBearerError(f *testing.F) {
	f.Add(`Bearer realm="x", error="invalid_token"`)
	f.Add(`Basic abc==, Bearer error=x`)
	f.Fuzz(func(t *testing.T, v string) {
		_ = bearerError(v) // must not panic or hang
	})
}
