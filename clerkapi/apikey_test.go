package clerkapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
)

// apiKeyAnswer is a 200 of POST /api_keys/verify with every field the spec
// lists, nullable ones set.
const apiKeyAnswer = `{
	"object": "api_key",
	"id": "ak_3beecc9c60adb5f9b850e91a8ee1e992",
	"type": "api_key",
	"subject": "org_2xhFjEI5X2qWRvtV13BzSj8H6Dk",
	"name": "MY_SERVICE_API_KEY",
	"description": "This is my API Key",
	"claims": {"foo": "bar"},
	"scopes": ["read", "write"],
	"revoked": false,
	"revocation_reason": null,
	"expired": false,
	"expiration": 1778580000000,
	"created_by": "user_2xhFjEI5X2qWRvtV13BzSj8H6Dk",
	"last_used_at": null,
	"created_at": 1778576400000,
	"updated_at": 1778576400123
}`

// apiKeyRequired is the spec's required list of the API key object (the
// verify, get, list and revoke answers); description is optional.
var apiKeyRequired = []string{"claims", "created_at", "created_by", "expiration", "expired", "id", "last_used_at",
	"name", "object", "revocation_reason", "revoked", "scopes", "subject", "type", "updated_at"}

func TestVerifyAPIKeyWire(t *testing.T) {
	const secret = "ak_Zq3x0SecretValue0123456789abcdef"
	ws, base := newWireServer(t, 200, apiKeyAnswer)
	c := apiClient(t, base, "sk_test_instancekey")
	k, err := c.VerifyAPIKey(context.Background(), secret)
	if err != nil {
		t.Fatalf("VerifyAPIKey: %v", err)
	}

	// The request: POST /v1/api_keys/verify with {"secret": …} and nothing else.
	reqs := ws.requests()
	if len(reqs) != 1 {
		t.Fatalf("got %d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.method != "POST" || r.path != "/v1/api_keys/verify" {
		t.Errorf("got %s %s, want POST /v1/api_keys/verify", r.method, r.path)
	}
	if got, want := compactJSON(t, r.body), `{"secret":"`+secret+`"}`; got != want {
		t.Errorf("got body %s, want %s", got, want)
	}
	if r.header.Get("Authorization") != "Bearer sk_test_instancekey" || r.header.Get("Content-Type") != "application/json" {
		t.Errorf("got headers %v, want the secret key as bearer and a JSON body", r.header)
	}

	// The answer: every field, milliseconds as time, null as zero.
	want := clerkapi.APIKey{
		Object: clerkapi.ObjectAPIKey, ID: "ak_3beecc9c60adb5f9b850e91a8ee1e992", Type: "api_key",
		Subject: "org_2xhFjEI5X2qWRvtV13BzSj8H6Dk", Name: "MY_SERVICE_API_KEY",
		Scopes: []string{"read", "write"},
	}
	if k.Object != want.Object || k.ID != want.ID || k.Type != want.Type || k.Subject != want.Subject || k.Name != want.Name ||
		!slices.Equal(k.Scopes, want.Scopes) || k.Revoked || k.Expired || k.RevocationReason != nil || k.Secret != "" {
		t.Errorf("got %+v, want %+v", k, want)
	}
	if k.Description == nil || *k.Description != "This is my API Key" || k.CreatedBy == nil || *k.CreatedBy != "user_2xhFjEI5X2qWRvtV13BzSj8H6Dk" {
		t.Errorf("got description %v, created_by %v", k.Description, k.CreatedBy)
	}
	if compactJSON(t, k.Claims) != `{"foo":"bar"}` {
		t.Errorf("got claims %s, want {\"foo\":\"bar\"}", k.Claims)
	}
	if !k.Expiration.Equal(time.UnixMilli(1778580000000)) || !k.CreatedAt.Equal(time.UnixMilli(1778576400000)) ||
		!k.UpdatedAt.Equal(time.UnixMilli(1778576400123)) || !k.LastUsedAt.IsZero() {
		t.Errorf("got expiration %v, created %v, updated %v, last used %v", k.Expiration, k.CreatedAt, k.UpdatedAt, k.LastUsedAt)
	}

	// Encoding gives the spec's object back: the required members, the
	// optional description, no secret.
	b, err := json.Marshal(k)
	if err != nil {
		t.Fatal(err)
	}
	wantKeys := slices.Sorted(slices.Values(append(slices.Clone(apiKeyRequired), "description")))
	if got := jsonKeys(t, b); !slices.Equal(got, wantKeys) {
		t.Errorf("encoded members: got %v, want %v", got, wantKeys)
	}
	k.Secret = secret
	b, _ = json.Marshal(k)
	if got := jsonKeys(t, b); !slices.Contains(got, "secret") {
		t.Errorf("encoded members with a secret: got %v, want secret among them", got)
	}
}

// TestVerifyAPIKeyNulls: the nullable members decode as null, and an API key
// without a description encodes it as null (the spec allows it).
func TestVerifyAPIKeyNulls(t *testing.T) {
	const answer = `{"object":"api_key","id":"ak_3beecc9c60adb5f9b850e91a8ee1e992","type":"api_key",` +
		`"subject":"user_2xhFjEI5X2qWRvtV13BzSj8H6Dk","name":"k","claims":null,"scopes":[],"revoked":true,` +
		`"revocation_reason":"leaked","expired":true,"expiration":null,"created_by":null,"last_used_at":1778576400000,` +
		`"created_at":1778576400000,"updated_at":1778576400000}`
	_, base := newWireServer(t, 200, answer)
	k, err := apiClient(t, base, "sk_test_x").VerifyAPIKey(context.Background(), "ak_x")
	if err != nil {
		t.Fatal(err)
	}
	if k.Description != nil || k.CreatedBy != nil || !k.Expiration.IsZero() || string(k.Claims) != "null" ||
		!k.Revoked || !k.Expired || k.RevocationReason == nil || *k.RevocationReason != "leaked" || k.LastUsedAt.IsZero() {
		t.Errorf("got %+v", k)
	}
}

// TestVerifyAPIKeyErrors: Clerk's error answers are *APIErrors with status
// and code, as for M2M tokens.
func TestVerifyAPIKeyErrors(t *testing.T) {
	for _, c := range []struct {
		name   string
		status int
		code   string
	}{
		{"unknown key", 404, clerkapi.CodeResourceNotFound},
		{"machine key", 401, clerkapi.CodeUnauthorized},
		{"no secret", 400, "form_param_missing"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, base := newWireServer(t, c.status, `{"errors":[{"message":"m","long_message":"l","code":"`+c.code+`"}],"clerk_trace_id":"t"}`)
			_, err := apiClient(t, base, "sk_test_x").VerifyAPIKey(context.Background(), "ak_secret")
			var ae *clerkapi.APIError
			if !errors.As(err, &ae) || ae.StatusCode != c.status || !ae.HasCode(c.code) {
				t.Errorf("got %v, want an *APIError %d %s", err, c.status, c.code)
			}
		})
	}
}
