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

// oauthAnswer is a 200 of POST /oauth_applications/access_tokens/verify: the
// token object with every field the spec lists.
const oauthAnswer = `{
	"object": "clerk_idp_oauth_access_token",
	"id": "oat_0ef5a7a33d87ed87ee7954c845d80450",
	"client_id": "client_2xhFjEI5X2qWRvtV13BzSj8H6Dk",
	"subject": "user_2xhFjEI5X2qWRvtV13BzSj8H6Dk",
	"scopes": ["read", "write"],
	"revoked": false,
	"revocation_reason": null,
	"expired": false,
	"expiration": 1778580000000,
	"created_at": 1778576400000,
	"updated_at": 1778576400000
}`

// oauthRequired is the spec's required list of the token object, which also
// has additionalProperties: false.
var oauthRequired = []string{"client_id", "created_at", "expiration", "expired", "id", "object",
	"revocation_reason", "revoked", "scopes", "subject", "updated_at"}

func TestVerifyOAuthAccessTokenWire(t *testing.T) {
	const token = "oat_SecretTokenValue0123456789abcdef"
	ws, base := newWireServer(t, 200, oauthAnswer)
	tok, err := apiClient(t, base, "sk_test_instancekey").VerifyOAuthAccessToken(context.Background(), token)
	if err != nil {
		t.Fatalf("VerifyOAuthAccessToken: %v", err)
	}
	reqs := ws.requests()
	if len(reqs) != 1 || reqs[0].method != "POST" || reqs[0].path != "/v1/oauth_applications/access_tokens/verify" {
		t.Fatalf("got requests %+v, want one POST /v1/oauth_applications/access_tokens/verify", reqs)
	}
	if got, want := compactJSON(t, reqs[0].body), `{"access_token":"`+token+`"}`; got != want {
		t.Errorf("got body %s, want %s (access_token, not the deprecated secret)", got, want)
	}
	if tok.Inactive || tok.Object != clerkapi.ObjectOAuthAccessToken || tok.ID != "oat_0ef5a7a33d87ed87ee7954c845d80450" ||
		tok.ClientID != "client_2xhFjEI5X2qWRvtV13BzSj8H6Dk" || tok.Subject != "user_2xhFjEI5X2qWRvtV13BzSj8H6Dk" ||
		!slices.Equal(tok.Scopes, []string{"read", "write"}) || tok.Revoked || tok.Expired || tok.RevocationReason != nil ||
		!tok.Expiration.Equal(time.UnixMilli(1778580000000)) || !tok.CreatedAt.Equal(time.UnixMilli(1778576400000)) {
		t.Errorf("got %+v", tok)
	}
	if !clerkapi.OAuthTokenIDPattern.MatchString(tok.ID) {
		t.Errorf("ID %q does not match OAuthTokenIDPattern", tok.ID)
	}
	b, err := json.Marshal(tok)
	if err != nil {
		t.Fatal(err)
	}
	if got := jsonKeys(t, b); !slices.Equal(got, oauthRequired) {
		t.Errorf("encoded members: got %v, want exactly %v (no active, no inactive)", got, oauthRequired)
	}
}

// TestOAuthAccessTokenShapes: either branch of the verify answer's anyOf
// decodes, and an inactive answer is recognised whatever else it holds.
func TestOAuthAccessTokenShapes(t *testing.T) {
	for _, c := range []struct {
		name         string
		body         string
		wantInactive bool
		wantID       string
	}{
		{"token object", oauthAnswer, false, "oat_0ef5a7a33d87ed87ee7954c845d80450"},
		{"active false", `{"active": false}`, true, ""},
		{"active false beside fields", `{"active":false,"object":"clerk_idp_oauth_access_token","id":"oat_0ef5a7a33d87ed87ee7954c845d80450"}`, true, "oat_0ef5a7a33d87ed87ee7954c845d80450"},
		{"active true", `{"active":true,"id":"oat_0ef5a7a33d87ed87ee7954c845d80450"}`, false, "oat_0ef5a7a33d87ed87ee7954c845d80450"},
		{"active null", `{"active":null}`, false, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, base := newWireServer(t, 200, c.body)
			tok, err := apiClient(t, base, "sk_test_x").VerifyOAuthAccessToken(context.Background(), "oat_x")
			if err != nil {
				t.Fatalf("got %v, want a token", err)
			}
			if tok.Inactive != c.wantInactive || tok.ID != c.wantID {
				t.Errorf("got inactive %v, id %q; want %v, %q", tok.Inactive, tok.ID, c.wantInactive, c.wantID)
			}
		})
	}
	// "active" of the wrong type is a malformed answer, not a valid token.
	_, base := newWireServer(t, 200, `{"active":"no"}`)
	if _, err := apiClient(t, base, "sk_test_x").VerifyOAuthAccessToken(context.Background(), "oat_x"); !errors.Is(err, clerkapi.ErrMalformedResponse) {
		t.Errorf("active \"no\": got %v, want ErrMalformedResponse", err)
	}
}

func TestOAuthAccessTokenEncodesInactive(t *testing.T) {
	b, err := json.Marshal(clerkapi.OAuthAccessToken{Inactive: true, ID: "ignored"})
	if err != nil || string(b) != `{"active":false}` {
		t.Errorf("got %s, %v; want {\"active\":false}", b, err)
	}
	var back clerkapi.OAuthAccessToken
	if err := json.Unmarshal(b, &back); err != nil || !back.Inactive {
		t.Errorf("decoding it back: got %+v, %v; want Inactive", back, err)
	}
}

func TestVerifyOAuthAccessTokenErrors(t *testing.T) {
	for _, c := range []struct {
		name   string
		status int
		code   string
	}{
		{"unknown token", 404, clerkapi.CodeResourceNotFound},
		{"machine key", 401, clerkapi.CodeUnauthorized},
		{"rate limited", 429, clerkapi.CodeTooManyRequests},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, base := newWireServer(t, c.status, `{"errors":[{"message":"m","long_message":"l","code":"`+c.code+`"}]}`)
			_, err := apiClient(t, base, "sk_test_x").VerifyOAuthAccessToken(context.Background(), "oat_secret")
			var ae *clerkapi.APIError
			if !errors.As(err, &ae) || ae.StatusCode != c.status || !ae.HasCode(c.code) {
				t.Errorf("got %v, want an *APIError %d %s", err, c.status, c.code)
			}
		})
	}
}
