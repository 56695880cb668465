package clerkapi

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
)

// ObjectAPIKey is the "object" value of an API key.
const ObjectAPIKey = "api_key"

// APIKeyIDPattern is the shape of an API key's ID. The ID is not a secret:
// the secret value (also ak_…) is what a caller sends and what
// [Client.VerifyAPIKey] takes.
var APIKeyIDPattern = regexp.MustCompile(`^ak_[0-9A-Fa-f]{32}$`)

// APIKey is Clerk's api_key object, as POST /api_keys/verify (and the other
// /api_keys endpoints) answer it. Nullable fields are pointers, a
// RawMessage or a [Timestamp] whose zero value stands for null.
type APIKey struct {
	Object string `json:"object"` // ObjectAPIKey
	ID     string `json:"id"`     // ak_ + 32 hex
	// Type is the key's type, "api_key" unless created with another.
	Type string `json:"type"`
	// Subject is who the key acts for: a user (user_…), an organization
	// (org_…) or a machine (mch_…).
	Subject     string  `json:"subject"`
	Name        string  `json:"name"`
	Description *string `json:"description"`
	// Claims are the key's custom claims as raw JSON; nil or "null" when none.
	Claims json.RawMessage `json:"claims"`
	// Scopes are free-form strings chosen at creation, e.g. "read".
	Scopes []string `json:"scopes"`
	// Secret is the key's secret value (ak_…). Clerk returns it only from
	// POST /api_keys; it is otherwise read with GET /api_keys/{id}/secret.
	Secret           string    `json:"secret,omitempty"`
	Revoked          bool      `json:"revoked"`
	RevocationReason *string   `json:"revocation_reason"`
	Expired          bool      `json:"expired"`
	Expiration       Timestamp `json:"expiration"` // zero: never expires
	// CreatedBy is the user (user_…) who created the key, when known.
	CreatedBy  *string   `json:"created_by"`
	LastUsedAt Timestamp `json:"last_used_at"` // zero: never used
	CreatedAt  Timestamp `json:"created_at"`
	UpdatedAt  Timestamp `json:"updated_at"`
}

// verifyAPIKeyBody is the body of POST /api_keys/verify: the secret and no
// other field.
type verifyAPIKeyBody struct {
	Secret string `json:"secret"`
}

// VerifyAPIKey asks Clerk whether secret is a valid API key:
// POST /api_keys/verify with the body {"secret": …}. It needs the Clerk
// secret key (sk_…): a machine secret key is refused. Clerk answers 404 (an
// *APIError) for an unknown, revoked or expired key; callers should still
// check Revoked, Expired and Expiration of a 200 answer.
func (c *Client) VerifyAPIKey(ctx context.Context, secret string) (*APIKey, error) {
	var k APIKey
	if err := c.do(ctx, http.MethodPost, "/api_keys/verify", nil, verifyAPIKeyBody{Secret: secret}, &k); err != nil {
		return nil, err
	}
	return &k, nil
}
