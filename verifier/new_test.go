package verifier_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/m2mauth/m2mauth/verifier"
)

func TestNewKeys(t *testing.T) {
	for _, tc := range []struct {
		name    string
		key     string
		wantErr bool
	}{
		{"clerk test key", "sk_test_" + strings.Repeat("A", 40), false},
		{"clerk live key", "sk_live_" + strings.Repeat("b", 40), false},
		{"machine key", "ak_" + strings.Repeat("0f", 20), false},
		{"empty", "", true},
		{"publishable key", "pk_test_" + strings.Repeat("A", 40), true},
		{"unknown sk kind", "sk_prod_" + strings.Repeat("A", 40), true},
		{"bare prefix", "sk_test_", true},
		{"short", "ak_1234", true},
		{"bearer prefix", "Bearer sk_test_" + strings.Repeat("A", 40), true},
		{"trailing newline", "sk_test_" + strings.Repeat("A", 40) + "\n", true},
		{"inner space", "sk_test_" + strings.Repeat("A", 20) + " " + strings.Repeat("A", 20), true},
		{"a token", "mt_" + strings.Repeat("A", 32), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := verifier.New(tc.key)
			if (err != nil) != tc.wantErr {
				t.Fatalf("New error = %v, want error: %v", err, tc.wantErr)
			}
			if err != nil {
				if len(tc.key) > len("sk_test_") && strings.Contains(err.Error(), strings.TrimSpace(tc.key)) {
					t.Errorf("error %q echoes the key", err)
				}
				if len(tc.key) > 8 && strings.Contains(err.Error(), tc.key[len(tc.key)-8:]) {
					t.Errorf("error %q contains part of the key", err)
				}
				return
			}
			v.Close()
		})
	}
}

func TestNewOptions(t *testing.T) {
	key := "sk_test_" + strings.Repeat("A", 40)
	for _, tc := range []struct {
		name string
		opt  verifier.Option
	}{
		{"base URL without scheme", verifier.WithBaseURL("localhost:8080")},
		{"base URL ftp", verifier.WithBaseURL("ftp://example.test/v1")},
		{"nil HTTP client", verifier.WithHTTPClient(nil)},
		{"cache size 0", verifier.WithCacheSize(0)},
		{"TTL 0", verifier.WithTTL(0)},
		{"negative TTL below 0", verifier.WithNegativeTTL(-time.Second)},
		{"timeout 0", verifier.WithTimeout(0)},
		{"max back-off below 0", verifier.WithMaxBackoff(-time.Second)},
		{"nil clock", verifier.WithClock(nil)},
		{"nil logger", verifier.WithLogger(nil)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if v, err := verifier.New(key, tc.opt); err == nil {
				v.Close()
				t.Fatal("New succeeded, want an error")
			}
		})
	}
	v, err := verifier.New(key,
		verifier.WithBaseURL("http://127.0.0.1:1/v1"), verifier.WithHTTPClient(http.DefaultClient),
		verifier.WithCacheSize(1), verifier.WithTTL(time.Hour), verifier.WithNegativeTTL(0),
		verifier.WithTimeout(time.Millisecond), verifier.WithClock(time.Now), verifier.WithMaxBackoff(0))
	if err != nil {
		t.Fatalf("New with valid options: %v", err)
	}
	v.Close()
}
