package clerktest_test

import (
	"strings"
	"testing"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/clerktest/internal/testkit"
)

// TestMachineCredentialEndpointsCountAndFault: each API key and OAuth
// endpoint has its own counter and takes faults set for it alone, under /v1
// and (where @clerk/backend calls it so) at the origin.
func TestMachineCredentialEndpointsCountAndFault(t *testing.T) {
	f := testkit.NewFixture(t)
	sk := f.Srv.SecretKey
	key, err := f.Srv.CreateAPIKey(clerktest.APIKeyParams{Name: "key-1", Subject: userID})
	if err != nil {
		t.Fatal(err)
	}
	app := f.Srv.CreateOAuthApplication("app")
	oat, err := f.Srv.CreateOAuthAccessToken(clerktest.OAuthAccessTokenParams{UserID: userID, ClientID: app.ClientID, Format: clerkapi.FormatOpaque})
	if err != nil {
		t.Fatal(err)
	}
	origin := strings.TrimSuffix(f.Srv.URL, "/v1")
	cases := []struct {
		endpoint     clerktest.Endpoint
		method, path string
		body         string
		ok           int
		unversioned  bool
	}{
		{clerktest.EndpointAPIKeyCreate, "POST", "/api_keys", `{"name":"key-2","subject":"` + userID + `"}`, 200, true},
		{clerktest.EndpointAPIKeyList, "GET", "/api_keys?subject=" + userID, "", 200, true},
		{clerktest.EndpointAPIKeyGet, "GET", "/api_keys/" + key.ID, "", 200, true},
		{clerktest.EndpointAPIKeySecret, "GET", "/api_keys/" + key.ID + "/secret", "", 200, true},
		{clerktest.EndpointAPIKeyRevoke, "POST", "/api_keys/" + key.ID + "/revoke", `{"revocation_reason":null}`, 200, true},
		{clerktest.EndpointAPIKeyVerify, "POST", "/api_keys/verify", `{"secret":"ak_unknown"}`, 404, true},
		{clerktest.EndpointOAuthAppCreate, "POST", "/oauth_applications", `{"name":"n"}`, 200, false},
		{clerktest.EndpointOAuthAppList, "GET", "/oauth_applications", "", 200, false},
		{clerktest.EndpointOAuthRevoke, "POST", "/oauth_applications/" + app.ID + "/revoke_token", `{"token":"` + oat + `"}`, 204, false},
		{clerktest.EndpointOAuthVerify, "POST", "/oauth_applications/access_tokens/verify", `{"access_token":"oat_unknown"}`, 404, true},
		{clerktest.EndpointOAuthMint, "POST", "/__emulator/oauth_access_tokens", `{"user_id":"` + userID + `","client_id":"` + app.ClientID + `"}`, 200, false},
	}
	if n := len(clerktest.Endpoints); n != 6+len(cases)+6 {
		t.Errorf("got %d Endpoints, want %d (6 M2M, JWKS and machines ones, one per case here and the 6 of the Frontend API, TestFrontendAPIEndpointsCountAndFault)",
			n, 6+len(cases)+6)
	}
	for _, c := range cases {
		t.Run(string(c.endpoint), func(t *testing.T) {
			f.Srv.ResetCalls()
			f.Srv.InjectOn(c.endpoint, clerktest.FailNext(1, 503))
			defer f.Srv.InjectOn(c.endpoint, nil)
			if status, b := send(t, f.Srv.URL, sk, c.method, c.path, c.body); status != 503 {
				t.Errorf("with the fault: got %d %s, want 503", status, b)
			}
			want := int64(2)
			if status, b := send(t, f.Srv.URL, sk, c.method, c.path, c.body); status != c.ok {
				t.Errorf("after the fault: got %d %s, want %d", status, b, c.ok)
			}
			if c.unversioned {
				want++
				if status, b := send(t, origin, sk, c.method, c.path, c.body); status != c.ok {
					t.Errorf("at the origin: got %d %s, want %d", status, b, c.ok)
				}
			} else if status, _ := send(t, origin, sk, c.method, c.path, c.body); status != 404 {
				t.Errorf("at the origin: got %d, want 404 (served under /v1 only)", status)
			}
			for _, e := range clerktest.Endpoints {
				got, wantE := f.Srv.Calls(e), int64(0)
				if e == c.endpoint {
					wantE = want
				}
				if got != wantE {
					t.Errorf("Calls(%s): got %d, want %d", e, got, wantE)
				}
			}
			// A machine key is refused before the operation, and counted.
			if status, b := send(t, f.Srv.URL, f.Caller.SecretKey, c.method, c.path, c.body); status != 401 || !strings.Contains(string(b), `"code":"unauthorized"`) {
				t.Errorf("with a machine key: got %d %s, want 401 unauthorized", status, b)
			}
		})
	}

	// A global fault and the rate limit on the server's clock reach them too.
	f.Srv.Inject(clerktest.RateLimit(1, time.Minute))
	defer f.Srv.ClearFaults()
	if status, _ := send(t, f.Srv.URL, sk, "POST", "/api_keys/verify", `{"secret":"ak_unknown"}`); status != 404 {
		t.Errorf("first call under RateLimit(1, 1m): got %d, want 404", status)
	}
	if status, _ := send(t, f.Srv.URL, sk, "POST", "/oauth_applications/access_tokens/verify", `{"access_token":"oat_x"}`); status != 429 {
		t.Errorf("second call: got %d, want 429", status)
	}
	f.Clock.Advance(time.Minute)
	if status, _ := send(t, f.Srv.URL, sk, "POST", "/oauth_applications/access_tokens/verify", `{"access_token":"oat_x"}`); status != 404 {
		t.Errorf("a minute later on the server's clock: got %d, want 404", status)
	}
}
