package wire_test

import (
	"strings"
	"testing"
	"time"

	"github.com/m2mauth/m2mauth/internal/wire"
)

func TestIsToken68(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want bool
	}{
		{"empty", "", false},
		{"opaque token", "mt_0123456789abcdefABCDEF", true},
		{"every allowed character", "azAZ09-._~+/", true},
		{"padding", "abc==", true},
		{"padding only", "==", false},
		{"padding in the middle", "ab=c", false},
		{"space", "ab c", false},
		{"quote", `ab"c`, false},
		{"comma", "ab,c", false},
		{"non-ASCII", "ab\xe2\x80\xa6", false},
		{"NUL", "ab\x00", false},
		{"JWT", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJtY2hfMSJ9.c2ln", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := wire.IsToken68(tc.in); got != tc.want {
				t.Errorf("IsToken68(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestIsToken68CharMatchesIsToken68(t *testing.T) {
	for c := range 256 {
		b := byte(c)
		if got, want := wire.IsToken68Char(b), b != '=' && wire.IsToken68(string([]byte{b})); got != want {
			t.Errorf("IsToken68Char(%q) = %v, want %v", b, got, want)
		}
	}
}

func TestIsJWT(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want bool
	}{
		{"three segments", "a.b.c", true},
		{"base64url alphabet", "aZ09-_.x.y", true},
		{"long", strings.Repeat("a", 16<<10) + ".b.c", true},
		{"two segments", "a.b", false},
		{"four segments", "a.b.c.d", false},
		{"empty first", ".b.c", false},
		{"empty middle", "a..c", false},
		{"empty last", "a.b.", false},
		{"padding", "a.b.c=", false},
		{"standard base64", "a+/.b.c", false},
		{"opaque token", "mt_0123456789abcdef", false},
		{"empty", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := wire.IsJWT(tc.in); got != tc.want {
				t.Errorf("IsJWT(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestCeilSeconds(t *testing.T) {
	for _, tc := range []struct {
		in   time.Duration
		want int64
	}{
		{-time.Second, 0},
		{0, 0},
		{time.Nanosecond, 1},
		{time.Second, 1},
		{time.Second + time.Nanosecond, 2},
		{1500 * time.Millisecond, 2},
		{time.Hour, 3600},
	} {
		if got := wire.CeilSeconds(tc.in); got != tc.want {
			t.Errorf("CeilSeconds(%v) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

func TestReservedClaimsAreTheRegisteredOnesAndScopes(t *testing.T) {
	got := strings.Join(wire.ReservedClaims[:], " ")
	if want := "iss sub aud exp nbf iat jti scopes"; got != want {
		t.Errorf("ReservedClaims = %q, want %q", got, want)
	}
}
