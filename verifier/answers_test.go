package verifier_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/verifier"
)

// TestAnswers covers answers the emulator does not give (it answers 404 for
// revoked and expired tokens, as Clerk does): a hand-written httptest server
// returns each, and the test checks the error kind and whether it was cached.
func TestAnswers(t *testing.T) {
	now := time.Date(2026, 5, 12, 10, 0, 0, 0, time.UTC)
	obj := func(fields string) string {
		return `{"object":"machine_to_machine_token","id":"mt_f7f0ba8c3b4843ce7d85fcdd5e71853e","subject":"mch_2xhFjEI5X2qWRvtV13BzSj8H6Dk",` +
			`"scopes":[],"revocation_reason":null,"last_used_at":null,"created_at":1778580000000,"updated_at":1778580000000,` + fields + `}`
	}
	future := fmt.Sprintf(`"expiration":%d`, now.Add(time.Hour).UnixMilli())
	past := fmt.Sprintf(`"expiration":%d`, now.Add(-time.Second).UnixMilli())
	for _, tc := range []struct {
		name       string
		status     int
		body       string
		want       error
		wantCached bool // a second Verify makes no request
	}{
		{"valid", 200, obj(`"revoked":false,"expired":false,` + future), nil, true},
		{"never expires", 200, obj(`"revoked":false,"expired":false,"expiration":null`), nil, true},
		{"200 but revoked", 200, obj(`"revoked":true,"expired":false,` + future), verifier.ErrInvalidToken, true},
		{"200 but expired", 200, obj(`"revoked":false,"expired":true,` + future), verifier.ErrInvalidToken, true},
		{"200 but expiry passed on our clock", 200, obj(`"revoked":false,"expired":false,` + past), verifier.ErrInvalidToken, true},
		{"200 without id", 200, `{"object":"machine_to_machine_token","subject":"mch_x","revoked":false,"expired":false}`, verifier.ErrUnavailable, false},
		{"200 other object", 200, `{"object":"user","id":"user_1","subject":"x"}`, verifier.ErrUnavailable, false},
		{"200 empty body", 200, ``, verifier.ErrUnavailable, false},
		{"400", 400, `{"errors":[{"message":"bad","long_message":"bad","code":"request_body_invalid"}]}`, verifier.ErrInvalidToken, false},
		{"403", 403, `{"errors":[{"message":"forbidden","long_message":"forbidden","code":"forbidden"}]}`, verifier.ErrMisconfigured, false},
		{"418 not Clerk's JSON", 418, `{}`, verifier.ErrMisconfigured, false},
		{"418 Clerk's JSON", 418, `{"errors":[{"message":"teapot","long_message":"teapot","code":"teapot"}]}`, verifier.ErrUnavailable, false},
		{"504 with Retry-After", 504, `not json`, verifier.ErrUnavailable, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				if r.URL.Path != "/v1/m2m_tokens/verify" || r.Method != http.MethodPost {
					http.NotFound(w, r)
					return
				}
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Retry-After", "3")
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			v, err := verifier.New("sk_test_"+strings.Repeat("k", 40), verifier.WithBaseURL(srv.URL+"/v1"),
				verifier.WithClock(func() time.Time { return now }))
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			tok := "mt_" + strings.Repeat("Q", 32)
			for i := range 2 {
				got, err := v.Verify(context.Background(), tok, "")
				if tc.want == nil {
					if err != nil || got == nil || got.ID != "mt_f7f0ba8c3b4843ce7d85fcdd5e71853e" {
						t.Fatalf("call %d: got %+v, %v; want the token", i, got, err)
					}
				} else if !errors.Is(err, tc.want) {
					t.Fatalf("call %d: got error %v, want %v", i, err, tc.want)
				}
			}
			// Every answer carries Retry-After: 3, so a 429 or 5xx also
			// starts a back-off that refuses the second Verify locally.
			gated := tc.status == http.StatusTooManyRequests || tc.status >= 500
			want := int64(2)
			if tc.wantCached || gated {
				want = 1
			}
			if got := calls.Load(); got != want {
				t.Errorf("got %d requests for two Verify calls, want %d", got, want)
			}
			if tc.status < 400 {
				return
			}
			_, err = v.Verify(context.Background(), tok, "")
			var ae *clerkapi.APIError
			if !errors.As(err, &ae) || ae.StatusCode != tc.status {
				t.Errorf("got %v, want Clerk's %d as a *clerkapi.APIError via errors.As", err, tc.status)
			}
			wantRetry := time.Duration(0)
			if errors.Is(tc.want, verifier.ErrUnavailable) {
				wantRetry = 3 * time.Second
			}
			if got := verifier.RetryAfter(err); got != wantRetry {
				t.Errorf("got Retry-After %v, want %v", got, wantRetry)
			}
		})
	}
}
