package clerkapi

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
)

// ObjectOAuthAccessToken is the "object" value of an OAuth access token that
// Clerk, as an OAuth authorization server, issued.
const ObjectOAuthAccessToken = "clerk_idp_oauth_access_token"

// OAuthTokenIDPattern is the shape of an OAuth access token's ID (also the
// jti claim of a JWT access token). It is not the token's value.
var OAuthTokenIDPattern = regexp.MustCompile(`^oat_[0-9A-Fa-f]{32}$`)

// OAuthAccessToken is the answer of POST /oauth_applications/access_tokens/verify,
// which is one of two shapes (the spec's anyOf):
//
//   - the clerk_idp_oauth_access_token object, with every field but Inactive;
//   - {"active": false}, which Clerk sends for a JWT access token that is not
//     active (expired): Inactive is true and every other field is zero.
//
// A verifier must treat Inactive, Revoked or Expired as an invalid token.
// Encoding an OAuthAccessToken gives back the shape it came from.
type OAuthAccessToken struct {
	Object string `json:"object"` // ObjectOAuthAccessToken
	ID     string `json:"id"`     // oat_ + 32 hex
	// ClientID is the client_id of the OAuth application the token was
	// issued to.
	ClientID string `json:"client_id"`
	// Subject is the user (user_…) who authorized the application.
	Subject          string    `json:"subject"`
	Scopes           []string  `json:"scopes"`
	Revoked          bool      `json:"revoked"`
	RevocationReason *string   `json:"revocation_reason"`
	Expired          bool      `json:"expired"`
	Expiration       Timestamp `json:"expiration"` // zero: never expires
	CreatedAt        Timestamp `json:"created_at"`
	UpdatedAt        Timestamp `json:"updated_at"`

	// Inactive reports that Clerk answered {"active": false} rather than the
	// token object. It is not a field of the object.
	Inactive bool `json:"-"`
}

// oauthAccessTokenFields has OAuthAccessToken's fields without its methods.
type oauthAccessTokenFields OAuthAccessToken

// MarshalJSON encodes {"active":false} when t is Inactive and the token
// object otherwise.
func (t OAuthAccessToken) MarshalJSON() ([]byte, error) {
	if t.Inactive {
		return []byte(`{"active":false}`), nil
	}
	return json.Marshal(oauthAccessTokenFields(t))
}

// UnmarshalJSON decodes either shape of the verify answer. An "active" member
// that is false makes the token Inactive, whatever else the object holds; a
// true one is ignored.
func (t *OAuthAccessToken) UnmarshalJSON(b []byte) error {
	var w struct {
		oauthAccessTokenFields
		Active *bool `json:"active"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*t = OAuthAccessToken(w.oauthAccessTokenFields)
	t.Inactive = w.Active != nil && !*w.Active
	return nil
}

// verifyOAuthBody is the body of POST /oauth_applications/access_tokens/verify.
type verifyOAuthBody struct {
	AccessToken string `json:"access_token"`
}

// VerifyOAuthAccessToken asks Clerk whether token, an OAuth access token
// (opaque oat_… or a JWT), is valid: POST /oauth_applications/access_tokens/verify
// with the body {"access_token": …}. It needs the Clerk secret key (sk_…).
// Clerk answers 404 (an *APIError) for an unknown, revoked or expired opaque
// token and a 200 {"active": false} (Inactive) for an expired JWT; callers
// should check Inactive, Revoked, Expired and Expiration of every 200 answer.
func (c *Client) VerifyOAuthAccessToken(ctx context.Context, token string) (*OAuthAccessToken, error) {
	var t OAuthAccessToken
	if err := c.do(ctx, http.MethodPost, "/oauth_applications/access_tokens/verify", nil, verifyOAuthBody{AccessToken: token}, &t); err != nil {
		return nil, err
	}
	return &t, nil
}
