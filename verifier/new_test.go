package verifier_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/verifier"
)

// TestNewKeys: which secret keys New accepts, and for each refused one a
// distinct message that says what to fix and holds no byte of the key's tail.
func TestNewKeys(t *testing.T) {
	const tail = "Zq8xW3vK9mLp2RtY7nB4cD6fG1hJ5sA0"
	for _, tc := range []struct {
		name string
		key  string
		want string // a phrase of the error; "" for a key New accepts
	}{
		{"clerk test key", "sk_test_" + tail, ""},
		{"clerk live key", "sk_live_" + tail, ""},
		{"machine key", "ak_" + tail, ""},
		{"tail with / = +", "sk_test_" + tail + "/x+y==", ""},
		{"machine key with / and =", "ak_" + tail + "/Ab=", ""},
		{"tail with other punctuation", "ak_" + tail + "!#$%&*~", ""},
		{"empty", "", "it is empty"},
		{"trailing newline", "sk_test_" + tail + "\n", "trim it"},
		{"trailing CRLF", "ak_" + tail + "\r\n", "trim it"},
		{"leading space", " sk_test_" + tail, "trim it"},
		{"trailing tab", "sk_live_" + tail + "\t", "trim it"},
		{"publishable test key", "pk_test_" + tail, "publishable key"},
		{"publishable live key", "pk_live_" + tail, "publishable key"},
		{"bearer prefix", "Bearer sk_test_" + tail, `"Bearer "`},
		{"unknown sk kind", "sk_prod_" + tail, "unknown prefix"},
		{"a token", "mt_" + tail, "unknown prefix"},
		{"no prefix", tail, "unknown prefix"},
		{"bare prefix", "sk_test_", "too short"},
		{"short", "ak_1234567", "too short"},
		{"long", "ak_" + strings.Repeat(tail, 20), "too long"},
		{"inner space", "sk_test_" + tail[:16] + " " + tail[16:], "white space, control"},
		{"inner newline", "ak_" + tail[:16] + "\n" + tail[16:], "white space, control"},
		{"non-ASCII", "sk_test_" + tail + "é", "non-ASCII"},
		{"NUL", "sk_test_" + tail + "\x00x", "control"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := verifier.New(tc.key)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("New: got %v, want nil", err)
				}
				v.Close()
				return
			}
			if err == nil {
				v.Close()
				t.Fatalf("New: got nil error, want one saying %q", tc.want)
			}
			if !errors.Is(err, verifier.ErrSecretKey) {
				t.Errorf("got %v, want an error matching ErrSecretKey", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %q, want it to say %q", err, tc.want)
			}
			for i := 0; i+6 <= len(tail); i++ {
				if strings.Contains(err.Error(), tail[i:i+6]) {
					t.Fatalf("error %q contains key bytes %q", err, tail[i:i+6])
				}
			}
		})
	}
}

// TestNewKeyMessagesDistinct: each kind of bad key has its own message.
func TestNewKeyMessagesDistinct(t *testing.T) {
	seen := map[string]string{}
	for name, key := range map[string]string{
		"empty": "", "white space": "sk_test_abcdefghij\n", "publishable": "pk_test_abcdefghij",
		"unknown prefix": "xk_abcdefghij", "bearer": "Bearer sk_test_abcdefghij",
	} {
		_, err := verifier.New(key)
		if err == nil {
			t.Fatalf("%s: got nil error", name)
		}
		if other, dup := seen[err.Error()]; dup {
			t.Errorf("%s and %s share the message %q", name, other, err)
		}
		seen[err.Error()] = name
	}
}

// TestWithBaseURLEmpty: WithBaseURL("") means Clerk's default base URL, even
// after another WithBaseURL.
func TestWithBaseURLEmpty(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []verifier.Option
	}{
		{"empty", []verifier.Option{verifier.WithBaseURL("")}},
		{"empty after another", []verifier.Option{verifier.WithBaseURL("http://127.0.0.1:1/v1"), verifier.WithBaseURL("")}},
		{"not set", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got atomic.Pointer[string]
			hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
				u := r.URL.String()
				got.Store(&u)
				return nil, errors.New("no network in tests")
			})}
			v, err := verifier.New("sk_test_"+strings.Repeat("A", 40), append(tc.opts, verifier.WithHTTPClient(hc))...)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			defer v.Close()
			if _, err := v.Verify(context.Background(), unknownToken(1), ""); !errors.Is(err, verifier.ErrUnavailable) {
				t.Fatalf("got %v, want ErrUnavailable from the failing transport", err)
			}
			want := clerkapi.DefaultBaseURL + "/m2m_tokens/verify"
			if u := got.Load(); u == nil || *u != want {
				t.Errorf("got request to %v, want %s", u, want)
			}
		})
	}
}

// roundTripFunc is an http.RoundTripper made of a function.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

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
		{"negative timeout", verifier.WithLimits(verifier.Limits{Timeout: -time.Second})},
		{"refresh-ahead 1", verifier.WithLimits(verifier.Limits{RefreshAhead: 1})},
		{"negative max sources", verifier.WithLimits(verifier.Limits{MaxSources: -1})},
		{"negative breaker cool-down", verifier.WithLimits(verifier.Limits{BreakerCooldown: -time.Second})},
		{"reserved share 1", verifier.WithLimits(verifier.Limits{ReservedShare: 1})},
		{"negative standing TTL", verifier.WithLimits(verifier.Limits{StandingTTL: -time.Hour})},
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
		verifier.WithLimits(verifier.Limits{Timeout: time.Millisecond, MaxBackoff: -1}), verifier.WithClock(time.Now))
	if err != nil {
		t.Fatalf("New with valid options: %v", err)
	}
	v.Close()
}
