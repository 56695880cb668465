package conformance_test

import (
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
)

// jsAPIKey is an APIKey as creds.mjs prints it.
type jsAPIKey struct {
	ID               string         `json:"id"`
	Type             string         `json:"type"`
	Name             string         `json:"name"`
	Subject          string         `json:"subject"`
	Scopes           []string       `json:"scopes"`
	Claims           map[string]any `json:"claims"`
	Revoked          bool           `json:"revoked"`
	RevocationReason *string        `json:"revocationReason"`
	Expired          bool           `json:"expired"`
	Expiration       *int64         `json:"expiration"`
	CreatedBy        *string        `json:"createdBy"`
	Description      *string        `json:"description"`
	LastUsedAt       *int64         `json:"lastUsedAt"`
	CreatedAt        int64          `json:"createdAt"`
	HasSecret        bool           `json:"hasSecret"`
}

// jsOAuthToken is an IdPOAuthAccessToken (or {active: false}) as creds.mjs
// prints it.
type jsOAuthToken struct {
	Active     *bool    `json:"active"`
	ID         string   `json:"id"`
	ClientID   string   `json:"clientId"`
	Subject    string   `json:"subject"`
	Scopes     []string `json:"scopes"`
	Revoked    bool     `json:"revoked"`
	Expired    bool     `json:"expired"`
	Expiration *int64   `json:"expiration"`
	CreatedAt  int64    `json:"createdAt"`
}

// jsMachineResult is verifyMachineAuthToken's answer as creds.mjs prints it.
type jsMachineResult struct {
	TokenType string     `json:"tokenType"`
	ID        string     `json:"id"`
	Subject   string     `json:"subject"`
	Scopes    []string   `json:"scopes"`
	ClientID  *string    `json:"clientId"`
	Error     *jsCredErr `json:"error"`
}

// jsAuth is authenticateRequest's state as creds.mjs prints it.
type jsAuth struct {
	IsAuthenticated bool     `json:"isAuthenticated"`
	TokenType       string   `json:"tokenType"`
	Reason          *string  `json:"reason"`
	ID              *string  `json:"id"`
	Subject         *string  `json:"subject"`
	Scopes          []string `json:"scopes"`
	UserID          *string  `json:"userId"`
	OrgID           *string  `json:"orgId"`
	ClientID        *string  `json:"clientId"`
	MachineID       *string  `json:"machineId"`
	Name            *string  `json:"name"`
}

// jsCredErr is a thrown or returned error as creds.mjs prints it.
type jsCredErr struct {
	Name    string   `json:"name"`
	Code    *string  `json:"code"`
	Status  *int     `json:"status"`
	Codes   []string `json:"codes"`
	Message *string  `json:"message"`
}

type jsCredResults struct {
	APIKeyCreated       jsAPIKey `json:"apiKeyCreated"`
	APIKeyGet           jsAPIKey `json:"apiKeyGet"`
	APIKeySecretMatches bool     `json:"apiKeySecretMatches"`
	APIKeyList          struct {
		TotalCount int      `json:"totalCount"`
		IDs        []string `json:"ids"`
	} `json:"apiKeyList"`
	APIKeyVerified             jsAPIKey  `json:"apiKeyVerified"`
	APIKeyVerifyWithMachineKey jsCredErr `json:"apiKeyVerifyWithMachineKey"`
	OAuthApp                   struct {
		ID         string `json:"id"`
		ClientID   string `json:"clientId"`
		HasSecret  bool   `json:"hasSecret"`
		InstanceID string `json:"instanceId"`
	} `json:"oauthApp"`
	OAuthAppList struct {
		TotalCount int      `json:"totalCount"`
		ClientIDs  []string `json:"clientIds"`
	} `json:"oauthAppList"`
	OAuthIDs struct {
		Opaque string `json:"opaque"`
		JWT    string `json:"jwt"`
	} `json:"oauthIds"`
	IdpOpaque                    jsOAuthToken               `json:"idpOpaque"`
	IdpJWT                       jsOAuthToken               `json:"idpJWT"`
	IdpExpiredJWT                jsOAuthToken               `json:"idpExpiredJWT"`
	IdpWithMachineKey            jsCredErr                  `json:"idpWithMachineKey"`
	VerifyMachine                map[string]jsMachineResult `json:"verifyMachine"`
	AuthenticateAny              map[string]jsAuth          `json:"authenticateAny"`
	VerifyMachineExpiredOAuthJWT jsMachineResult            `json:"verifyMachineExpiredOAuthJWT"`
	VerifyTokenOAuthJWT          jsCredErr                  `json:"verifyTokenOAuthJWT"`
	APIKeyVerifyRevoked          jsCredErr                  `json:"apiKeyVerifyRevoked"`
	IdpRevoked                   jsCredErr                  `json:"idpRevoked"`
	AuthenticateMismatch         jsAuth                     `json:"authenticateMismatch"`
}

// TestOfficialJSSDKMachineCredentials drives the emulator's API key and OAuth
// endpoints through @clerk/backend unchanged: apiKeys.*, oauthApplications.*,
// idPOAuthAccessToken.verify, verifyMachineAuthToken (which
// authenticateRequest uses) and authenticateRequest({acceptsToken: 'any'})
// for every kind of machine credential, with the emulator's publishable key.
func TestOfficialJSSDKMachineCredentials(t *testing.T) {
	node := needNode(t)
	const user = "user_2xhFjEI5X2qWRvtV13BzSj8H6Dk"

	// The SDK checks JWT times against Node's clock, so the emulator reads the
	// real clock, shifted only to mint an OAuth JWT that expired an hour ago.
	var shift atomic.Int64
	srv := clerktest.NewServer(clerktest.WithClock(func() time.Time { return time.Now().Add(time.Duration(shift.Load())) }))
	defer srv.Close()
	recv := srv.CreateMachine("receiver")
	caller := srv.CreateMachine("caller", recv.ID)
	old := srv.CreateOAuthApplication("old agent")
	shift.Store(int64(-2 * time.Hour))
	expired, err := srv.CreateOAuthAccessToken(clerktest.OAuthAccessTokenParams{UserID: user, ClientID: old.ClientID, TTL: time.Hour})
	shift.Store(0)
	if err != nil {
		t.Fatal(err)
	}

	var r jsCredResults
	exs := runNode(t, node, srv, "creds.mjs", &r,
		"CALLER_MACHINE_SECRET_KEY="+caller.SecretKey,
		"RECEIVER_MACHINE_SECRET_KEY="+recv.SecretKey,
		"USER_ID="+user,
		"EXPIRED_OAUTH_JWT="+expired,
	)

	// API keys.
	k := r.APIKeyCreated
	if !clerkapi.APIKeyIDPattern.MatchString(k.ID) || !k.HasSecret || k.Type != "api_key" || k.Name != "reports-reader" || k.Subject != user ||
		!slices.Equal(k.Scopes, []string{"reports:read"}) || k.Claims["team"] != "finance" || k.Description == nil ||
		k.Expiration == nil || *k.Expiration-k.CreatedAt != 3_600_000 || k.Revoked || k.Expired {
		t.Errorf("apiKeys.create: got %+v", k)
	}
	if g := r.APIKeyGet; g.ID != k.ID || g.HasSecret || !r.APIKeySecretMatches {
		t.Errorf("apiKeys.get / getSecret: got %+v, secret matches %v", g, r.APIKeySecretMatches)
	}
	if r.APIKeyList.TotalCount != 1 || !slices.Equal(r.APIKeyList.IDs, []string{k.ID}) {
		t.Errorf("apiKeys.list: got %+v", r.APIKeyList)
	}
	if v := r.APIKeyVerified; v.ID != k.ID || v.HasSecret || v.Subject != user || v.LastUsedAt == nil || v.Revoked || v.Expired {
		t.Errorf("apiKeys.verify: got %+v, want %s live and used", v, k.ID)
	}
	t.Logf("@clerk/backend apiKeys.verify: id=%s subject=%s scopes=%v revoked=%v expired=%v",
		r.APIKeyVerified.ID, r.APIKeyVerified.Subject, r.APIKeyVerified.Scopes, r.APIKeyVerified.Revoked, r.APIKeyVerified.Expired)

	// OAuth applications and access tokens.
	app := r.OAuthApp
	if !strings.HasPrefix(app.ID, "oa_") || app.ClientID == "" || !app.HasSecret || app.InstanceID != srv.InstanceID() ||
		r.OAuthAppList.TotalCount != 2 || !slices.Contains(r.OAuthAppList.ClientIDs, app.ClientID) {
		t.Errorf("oauthApplications.create / list: got %+v, %+v", app, r.OAuthAppList)
	}
	for _, c := range []struct {
		name   string
		got    jsOAuthToken
		id     string
		scopes []string
	}{
		{"opaque", r.IdpOpaque, r.OAuthIDs.Opaque, []string{"read", "write"}},
		{"JWT", r.IdpJWT, r.OAuthIDs.JWT, []string{"read"}},
	} {
		name := c.name
		g := c.got
		if g.Active != nil || g.ID != c.id || !clerkapi.OAuthTokenIDPattern.MatchString(g.ID) || g.ClientID != app.ClientID ||
			g.Subject != user || !slices.Equal(g.Scopes, c.scopes) || g.Revoked || g.Expired || g.Expiration == nil {
			t.Errorf("idPOAuthAccessToken.verify %s: got %+v", name, g)
		}
		t.Logf("@clerk/backend idPOAuthAccessToken.verify (%s): id=%s clientId=%s subject=%s scopes=%v", name, g.ID, g.ClientID, g.Subject, g.Scopes)
	}
	if a := r.IdpExpiredJWT.Active; a == nil || *a {
		t.Errorf("idPOAuthAccessToken.verify of an expired JWT: got %+v, want {active: false}", r.IdpExpiredJWT)
	}

	// Every kind through verifyMachineAuthToken and authenticateRequest('any').
	for _, want := range []struct {
		kind, tokenType, subject string
		scopes                   []string
		clientID                 string
	}{
		{"m2mOpaque", "m2m_token", caller.ID, []string{recv.ID}, ""},
		{"m2mJWT", "m2m_token", caller.ID, []string{recv.ID}, ""},
		{"apiKey", "api_key", user, []string{"reports:read"}, ""},
		{"oauthOpaque", "oauth_token", user, []string{"read", "write"}, app.ClientID},
		{"oauthJWT", "oauth_token", user, []string{"read"}, app.ClientID},
	} {
		kind := want.kind
		m := r.VerifyMachine[kind]
		if m.Error != nil || m.TokenType != want.tokenType || m.Subject != want.subject || !slices.Equal(m.Scopes, want.scopes) ||
			(want.clientID != "" && (m.ClientID == nil || *m.ClientID != want.clientID)) {
			t.Errorf("verifyMachineAuthToken %s: got %+v (error %+v), want %s of %s", kind, m, m.Error, want.tokenType, want.subject)
		}
		a := r.AuthenticateAny[kind]
		if !a.IsAuthenticated || a.TokenType != want.tokenType || a.Subject == nil || *a.Subject != want.subject ||
			!slices.Equal(a.Scopes, want.scopes) || a.ID == nil || *a.ID != m.ID {
			t.Errorf("authenticateRequest any, %s: got %+v, want an authenticated %s of %s", kind, a, want.tokenType, want.subject)
		}
		t.Logf("@clerk/backend authenticateRequest({acceptsToken: 'any'}) %s: isAuthenticated=%v tokenType=%s id=%s subject=%s",
			kind, a.IsAuthenticated, a.TokenType, deref(a.ID), deref(a.Subject))
	}
	if a := r.AuthenticateAny["apiKey"]; a.UserID == nil || *a.UserID != user || a.Name == nil || *a.Name != "reports-reader" {
		t.Errorf("authenticateRequest any, apiKey: got userId %v name %v", a.UserID, a.Name)
	}
	if a := r.AuthenticateAny["oauthJWT"]; a.ClientID == nil || *a.ClientID != app.ClientID || a.UserID == nil || *a.UserID != user {
		t.Errorf("authenticateRequest any, oauthJWT: got clientId %v userId %v", a.ClientID, a.UserID)
	}
	if m := r.VerifyMachineExpiredOAuthJWT; m.TokenType != "oauth_token" || m.Error == nil || m.Error.Code == nil ||
		*m.Error.Code != "token-verification-failed" {
		t.Errorf("verifyMachineAuthToken of an expired OAuth JWT: got %+v, want token-verification-failed", m)
	}
	if e := r.VerifyTokenOAuthJWT; e.Message == nil || !strings.Contains(*e.Message, "at+jwt") {
		t.Errorf("verifyToken of an OAuth JWT: got %+v, want a refusal of the typ at+jwt (verifyToken is for session tokens)", e)
	}

	// Refusals: Clerk's errors as the SDK reports them.
	for _, c := range []struct {
		name   string
		got    jsCredErr
		status int
		code   string
	}{
		{"apiKeys.verify with a machine key", r.APIKeyVerifyWithMachineKey, 401, "unauthorized"},
		{"idPOAuthAccessToken.verify with a machine key", r.IdpWithMachineKey, 401, "unauthorized"},
		{"apiKeys.verify of a revoked key", r.APIKeyVerifyRevoked, 404, "resource_not_found"},
		{"idPOAuthAccessToken.verify of a revoked token", r.IdpRevoked, 404, "resource_not_found"},
	} {
		if c.got.Name != "ClerkAPIResponseError" || c.got.Status == nil || *c.got.Status != c.status || !slices.Equal(c.got.Codes, []string{c.code}) {
			t.Errorf("%s: got %+v, want ClerkAPIResponseError %d [%s]", c.name, c.got, c.status, c.code)
		}
	}
	for _, kind := range []string{"apiKeyRefused", "oauthOpaqueRefused", "oauthExpiredJWTRefused"} {
		if a := r.AuthenticateAny[kind]; a.IsAuthenticated || a.Reason == nil {
			t.Errorf("authenticateRequest any, %s: got %+v, want signed out with a reason", kind, a)
		} else {
			t.Logf("@clerk/backend authenticateRequest({acceptsToken: 'any'}) %s: isAuthenticated=false reason=%s", kind, *a.Reason)
		}
	}
	if a := r.AuthenticateMismatch; a.IsAuthenticated || a.Reason == nil || *a.Reason != "token-type-mismatch" {
		t.Errorf("authenticateRequest api_key with an OAuth token: got %+v, want token-type-mismatch", a)
	}

	// What went over the wire: API key and OAuth verify calls at the origin
	// (no /v1), OAuth applications and JWKS under /v1; every answer conforms.
	var paths []string
	for _, e := range exs {
		paths = append(paths, e.req.Method+" "+e.req.URL.Path)
	}
	for _, want := range []string{"POST /api_keys", "GET /api_keys", "GET /api_keys/" + k.ID, "GET /api_keys/" + k.ID + "/secret",
		"POST /api_keys/verify", "POST /api_keys/" + k.ID + "/revoke", "POST /oauth_applications/access_tokens/verify",
		"POST /v1/oauth_applications", "GET /v1/oauth_applications", "POST /v1/oauth_applications/" + app.ID + "/revoke_token", "GET /v1/jwks"} {
		if !slices.Contains(paths, want) {
			t.Errorf("requests: got %v, want one %s", paths, want)
		}
	}
	if n := srv.Calls(clerktest.EndpointJWKS); n != 1 {
		t.Errorf("GET /jwks calls: got %d, want 1 (the SDK verifies both JWT kinds with one cached key set)", n)
	}
	validateAll(t, exs)
}

func deref(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}
