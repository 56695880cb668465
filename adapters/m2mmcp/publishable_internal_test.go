package m2mmcp

import (
	"encoding/base64"
	"net/url"
	"testing"

	"github.com/m2mauth/m2mauth/clerktest"
)

// TestFrontendAPI derives the authorization server from publishable keys as
// Clerk's SDKs do (base64 of the host and "$"): https, but http for a
// loopback host such as the emulator's.
func TestFrontendAPI(t *testing.T) {
	clerk := clerktest.NewServer()
	defer clerk.Close()
	enc := func(s string) string { return base64.RawStdEncoding.EncodeToString([]byte(s)) }
	padded := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	u, _ := url.Parse(clerk.URL)

	for _, tc := range []struct {
		name, pk, want string
	}{
		{"the emulator's key", clerk.PublishableKey, "http://" + u.Host},
		{"development instance", "pk_test_" + enc("fond-lark-12.clerk.accounts.dev$"), "https://fond-lark-12.clerk.accounts.dev"},
		{"production instance", "pk_live_" + enc("clerk.example.com$"), "https://clerk.example.com"},
		{"padded base64", "pk_live_" + padded("clerk.example.co$"), "https://clerk.example.co"},
		{"port", "pk_test_" + enc("clerk.example.com:8443$"), "https://clerk.example.com:8443"},
		{"localhost", "pk_test_" + enc("localhost:4000$"), "http://localhost:4000"},
		{"IPv6 loopback", "pk_test_" + enc("[::1]:4000$"), "http://[::1]:4000"},
		{"127.0.0.2", "pk_test_" + enc("127.0.0.2:4000$"), "http://127.0.0.2:4000"},

		{"empty", "", ""},
		{"secret key", "sk_test_" + enc("clerk.example.com$"), ""},
		{"no $", "pk_test_" + enc("clerk.example.com"), ""},
		{"only $", "pk_test_" + enc("$"), ""},
		{"not base64", "pk_test_***", ""},
		{"a path", "pk_test_" + enc("clerk.example.com/evil$"), ""},
		{"user information", "pk_test_" + enc("user@clerk.example.com$"), ""},
		{"white space", "pk_test_" + enc("clerk example.com$"), ""},
		{"too long", "pk_test_" + enc(string(make([]byte, 600))+"$"), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := frontendAPI(tc.pk)
			if tc.want == "" {
				if err == nil {
					t.Fatalf("got %q, want an error", got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got (%q, %v), want %q", got, err, tc.want)
			}
		})
	}
}

// TestMetadataURL: RFC 9728 §3.1 puts the well-known suffix between the
// host and the resource's path; a lone "/" path is dropped.
func TestMetadataURL(t *testing.T) {
	for _, tc := range []struct{ resource, want string }{
		{"https://mcp.example.com/mcp", "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"},
		{"https://mcp.example.com", "https://mcp.example.com/.well-known/oauth-protected-resource"},
		{"https://mcp.example.com/", "https://mcp.example.com/.well-known/oauth-protected-resource"},
		{"https://mcp.example.com:8443/v1/mcp/", "https://mcp.example.com:8443/.well-known/oauth-protected-resource/v1/mcp/"},
		{"http://127.0.0.1:8080/m%20cp", "http://127.0.0.1:8080/.well-known/oauth-protected-resource/m%20cp"},
		{"http://[::1]:8080/mcp", "http://[::1]:8080/.well-known/oauth-protected-resource/mcp"},
	} {
		u, err := checkURL("Resource", tc.resource)
		if err != nil {
			t.Fatalf("%s: %v", tc.resource, err)
		}
		if got := metadataURL(u); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.resource, got, tc.want)
		}
	}
}
