package conformance_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/clerk/clerk-sdk-go/v2"
	"github.com/clerk/clerk-sdk-go/v2/apikey"
	"github.com/clerk/clerk-sdk-go/v2/oauthapplication"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/clerktest/internal/testkit"
)

// TestOfficialSDKMachineCredentials drives the emulator's API key and OAuth
// application endpoints through clerk-sdk-go v2's unchanged apikey and
// oauthapplication clients (the Go SDK has no OAuth access token verify), and
// checks that the SDK sends the API version that clerkapi sends.
func TestOfficialSDKMachineCredentials(t *testing.T) {
	clock := clerktest.NewClock(testkit.T0)
	srv := clerktest.NewServer(clerktest.WithClock(clock.Now))
	defer srv.Close()
	rec := &recorder{}
	ctx := t.Context()
	admin := sdkConfig(srv, srv.SecretKey, rec)
	keys := apikey.NewClient(admin)
	const user, org = "user_2xhFjEI5X2qWRvtV13BzSj8H6Dk", "org_2xhFjEI5X2qWRvtV13BzSj8H6Dk"

	// Create, read, list.
	claims := json.RawMessage(`{"plan":"pro"}`)
	created, err := keys.Create(ctx, &apikey.CreateParams{Name: clerk.String("billing-export"), Subject: clerk.String(org),
		Description: clerk.String("exports invoices"), Claims: claims, Scopes: []string{"invoices:read"},
		CreatedBy: clerk.String(user), SecondsUntilExpiration: clerk.Int64(3600)})
	if err != nil {
		t.Fatalf("apikey.Create: %v", err)
	}
	if created.Object != clerkapi.ObjectAPIKey || !clerkapi.APIKeyIDPattern.MatchString(created.ID) || created.Secret == "" ||
		created.Subject != org || created.Type != "api_key" || !slices.Equal(created.Scopes, []string{"invoices:read"}) ||
		string(created.Claims) != `{"plan":"pro"}` || created.Description == nil || *created.Description != "exports invoices" ||
		created.CreatedBy == nil || *created.CreatedBy != user || created.Expiration == nil ||
		*created.Expiration != testkit.T0.Add(time.Hour).UnixMilli() || created.CreatedAt != testkit.T0.UnixMilli() {
		t.Fatalf("apikey.Create: got %+v", created)
	}
	got, err := keys.Get(ctx, created.ID)
	if err != nil || got.ID != created.ID || got.Name != "billing-export" || got.LastUsedAt != nil {
		t.Errorf("apikey.Get: got %+v, %v", got, err)
	}
	secret, err := keys.GetSecret(ctx, created.ID)
	if err != nil || secret.Secret != created.Secret {
		t.Errorf("apikey.GetSecret: got %+v, %v; want the secret from Create", secret, err)
	}
	list, err := keys.List(ctx, &apikey.ListParams{Subject: clerk.String(org)})
	if err != nil || list.TotalCount != 1 || len(list.APIKeys) != 1 || list.APIKeys[0].ID != created.ID {
		t.Errorf("apikey.List: got %+v, %v", list, err)
	}

	// Verify, as a service receiving the key would.
	clock.Advance(time.Minute)
	v, err := keys.Verify(ctx, &apikey.VerifyParams{Secret: created.Secret})
	if err != nil || v.ID != created.ID || v.Subject != org || v.Revoked || v.Expired || v.LastUsedAt == nil ||
		*v.LastUsedAt != clock.Now().UnixMilli() || !slices.Equal(v.Scopes, []string{"invoices:read"}) {
		t.Errorf("apikey.Verify: got %+v, %v", v, err)
	}
	t.Logf("clerk-sdk-go apikey.Verify: id=%s subject=%s scopes=%v revoked=%v expired=%v", v.ID, v.Subject, v.Scopes, v.Revoked, v.Expired)
	if _, err := keys.Verify(ctx, &apikey.VerifyParams{Secret: created.ID}); statusOf(err) != http.StatusNotFound {
		t.Errorf("apikey.Verify of the key's ID: got %v, want 404", err)
	}
	asMachine := apikey.NewClient(sdkConfig(srv, srv.CreateMachine("m").SecretKey, rec))
	var ae *clerk.APIErrorResponse
	if _, err := asMachine.Verify(ctx, &apikey.VerifyParams{Secret: created.Secret}); !errors.As(err, &ae) || ae.HTTPStatusCode != 401 ||
		ae.Errors[0].Code != "unauthorized" {
		t.Errorf("apikey.Verify with a machine key: got %v, want 401 unauthorized", err)
	}

	// Revoke: verify then answers 404, which the SDK reports as its error.
	r, err := keys.Revoke(ctx, created.ID, &apikey.RevokeParams{RevocationReason: clerk.String("leaked")})
	if err != nil || !r.Revoked || r.RevocationReason == nil || *r.RevocationReason != "leaked" {
		t.Errorf("apikey.Revoke: got %+v, %v", r, err)
	}
	_, err = keys.Verify(ctx, &apikey.VerifyParams{Secret: created.Secret})
	if !errors.As(err, &ae) || ae.HTTPStatusCode != 404 || ae.Errors[0].Code != "resource_not_found" || ae.TraceID == "" {
		t.Errorf("apikey.Verify revoked: got %v, want 404 resource_not_found with a trace ID", err)
	}
	t.Logf("clerk-sdk-go apikey.Verify of the revoked key: %v", err)
	invalid := "true"
	if l, err := keys.List(ctx, &apikey.ListParams{Subject: clerk.String(org), IncludeInvalid: &invalid}); err != nil || l.TotalCount != 1 {
		t.Errorf("apikey.List include_invalid: got %+v, %v; want the revoked key", l, err)
	}

	// OAuth applications, whose client_id an access token names.
	apps := oauthapplication.NewClient(admin)
	app, err := apps.Create(ctx, &oauthapplication.CreateParams{Name: "agent", CallbackURL: "https://agent.example/cb", Scopes: "profile email"})
	if err != nil || app.Object != "oauth_application" || app.ClientID == "" || app.ClientSecret == nil || *app.ClientSecret == "" ||
		app.CallbackURL != "https://agent.example/cb" || app.InstanceID != srv.InstanceID() || app.CreatedAt != clock.Now().UnixMilli() {
		t.Fatalf("oauthapplication.Create: got %+v, %v", app, err)
	}
	pub, err := apps.Create(ctx, &oauthapplication.CreateParams{Name: "spa", Public: true})
	if err != nil || !pub.Public || pub.ClientSecret == nil || *pub.ClientSecret != "" {
		t.Errorf("oauthapplication.Create public: got %+v, %v; want an empty client secret", pub, err)
	}
	al, err := apps.List(ctx, &oauthapplication.ListParams{NameQuery: clerk.String(app.ClientID)})
	if err != nil || al.TotalCount != 1 || len(al.OAuthApplications) != 1 || al.OAuthApplications[0].ID != app.ID ||
		al.OAuthApplications[0].ClientSecret != nil {
		t.Errorf("oauthapplication.List by client_id: got %+v, %v", al, err)
	}
	tok, err := srv.CreateOAuthAccessToken(clerktest.OAuthAccessTokenParams{UserID: user, ClientID: app.ClientID, Format: clerkapi.FormatOpaque})
	if err != nil {
		t.Fatalf("CreateOAuthAccessToken for the SDK's application: %v", err)
	}
	if ov, err := testkit.NewClient(t, srv, srv.SecretKey).VerifyOAuthAccessToken(ctx, tok); err != nil || ov.ClientID != app.ClientID {
		t.Errorf("verify a token of the SDK's application: got %+v, %v", ov, err)
	}

	// Every request carried the API version clerkapi sends.
	exs := rec.exchanges()
	for _, e := range exs {
		if got := e.req.Header.Get("Clerk-API-Version"); got != clerkapi.APIVersion {
			t.Errorf("%v: clerk-sdk-go sent Clerk-API-Version %q, want %q as clerkapi does", e, got, clerkapi.APIVersion)
		}
	}
	if len(exs) > 0 {
		t.Logf("clerk-sdk-go sends Clerk-API-Version: %s", exs[0].req.Header.Get("Clerk-API-Version"))
	}
	validateAll(t, exs)
}
