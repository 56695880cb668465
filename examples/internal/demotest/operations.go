package demotest

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
)

// checkOperations: /readyz tells a refused key and an unreachable Clerk, and
// /metrics counts a scripted run's hits, misses, refusals and Clerk errors.
func checkOperations(t *testing.T, run RunFunc) {
	clerk := clerktest.NewServer()
	defer clerk.Close()
	receiver := clerk.CreateMachine("reports-service")
	caller := clerk.CreateMachine("billing-worker", receiver.ID)
	mint := func() string {
		tok, err := clerk.CreateToken(caller.ID, clerkapi.CreateParams{Claims: map[string]string{"role": "reporter"}})
		if err != nil {
			t.Fatal(err)
		}
		return tok.Token
	}
	env := func(key string) map[string]string {
		return map[string]string{"CLERK_SECRET_KEY": key, "M2M_AUDIENCE": receiver.ID, "CLERK_API_URL": clerk.URL, "ADDR": "127.0.0.1:0"}
	}

	t.Run("readyz", func(t *testing.T) {
		for _, tc := range []struct {
			name, key  string
			fault      clerktest.Fault // on GET /jwks
			wantStatus int
			want       string
		}{
			{"ready", clerk.SecretKey, nil, 200, "ready"},
			{"key refused", "sk_test_" + strings.Repeat("0", 40), nil, 503, "misconfigured"},
			{"clerk unreachable", clerk.SecretKey, clerktest.Drop(), 503, "unavailable"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if tc.fault != nil {
					clerk.InjectOn(clerktest.EndpointJWKS, tc.fault)
					defer clerk.ClearFaults()
				}
				svc := start(t, run, env(tc.key))
				status, body := svc.get(t, "/readyz", "")
				if status != tc.wantStatus || body["status"] != tc.want {
					t.Errorf("GET /readyz: got %d %v, want %d {\"status\":%q}", status, body, tc.wantStatus, tc.want)
				}
			})
		}
	})

	t.Run("metrics", func(t *testing.T) {
		svc := start(t, run, env(clerk.SecretKey))
		token, unknown := mint(), "mt_"+strings.Repeat("0", 32)
		svc.check(t, []request{
			{"ready", "/readyz", "", 200, ""},
			{"miss", "/api/whoami", token, 200, ""},
			{"hit", "/api/whoami", token, 200, ""},
			{"hit again", "/api/reports", token, 200, ""},
			{"no token: no verification", "/api/whoami", "", 401, "missing_token"},
			{"unknown token: Clerk refuses it", "/api/whoami", unknown, 401, "invalid_token"},
			{"unknown token again: negative hit", "/api/whoami", unknown, 401, "invalid_token"},
		})
		clerk.InjectOn(clerktest.EndpointVerify, clerktest.FailNext(1, 503))
		svc.check(t, []request{{"clerk 503", "/api/whoami", mint(), 503, "temporarily_unavailable"}})
		clerk.ClearFaults()

		text := svc.getText(t, "/metrics")
		var lines []string
		for _, l := range strings.Split(text, "\n") {
			if strings.HasPrefix(l, "m2mauth_") && !strings.Contains(l, "_bucket{") {
				lines = append(lines, l)
			}
		}
		t.Logf("GET /metrics (m2mauth_ series, buckets left out):\n%s", strings.Join(lines, "\n"))
		for _, want := range []string{
			"m2mauth_cache_hits_total 2",
			"m2mauth_cache_negative_hits_total 1",
			"m2mauth_cache_misses_total 3",
			`m2mauth_upstream_requests_total{endpoint="verify"} 3`,
			`m2mauth_upstream_requests_total{endpoint="jwks"} 1`, // the readiness probe
			`m2mauth_verify_errors_total{reason="invalid"} 2`,
			`m2mauth_verify_errors_total{reason="unavailable"} 1`,
			`m2mauth_upstream_duration_seconds_count{endpoint="verify",kind="m2m_token",outcome="ok"} 1`,
			`m2mauth_upstream_duration_seconds_count{endpoint="verify",kind="m2m_token",outcome="invalid"} 1`,
			`m2mauth_upstream_duration_seconds_count{endpoint="verify",kind="m2m_token",outcome="unavailable"} 1`,
			`m2mauth_upstream_duration_seconds_count{endpoint="jwks",kind="",outcome="ok"} 1`,
			`m2mauth_miss_duration_seconds_count{kind="m2m_token",outcome="ok"} 1`,
		} {
			if !strings.Contains(text, want+"\n") {
				t.Errorf("GET /metrics: no line %q", want)
			}
		}
		for _, secret := range []string{token, clerk.SecretKey, caller.ID, "mt_"} {
			if strings.Contains(text, secret) {
				t.Errorf("GET /metrics holds %q", secret)
			}
		}
	})
}

// getText sends GET path and returns the body of its 200 answer.
func (s *service) getText(t *testing.T, path string) string {
	t.Helper()
	res, err := s.client.Get(s.base + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: got %d, %v, want 200", path, res.StatusCode, err)
	}
	return string(b)
}
