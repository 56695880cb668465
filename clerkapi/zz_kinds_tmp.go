package clerkapi

// TEMPORARY (i18-kinds): stands in for the clerkapi work of branch i18-clerk
// until it lands; replaced at the merge.

import (
	"context"
	"encoding/json"
	"net/http"
)

const (
	ObjectAPIKey           = "api_key"
	ObjectOAuthAccessToken = "clerk_idp_oauth_access_token"
)

type APIKey struct {
	Object           string          `json:"object"`
	ID               string          `json:"id"`
	Type             string          `json:"type"`
	Subject          string          `json:"subject"`
	Name             string          `json:"name"`
	Description      *string         `json:"description"`
	Claims           json.RawMessage `json:"claims"`
	Scopes           []string        `json:"scopes"`
	Revoked          bool            `json:"revoked"`
	RevocationReason *string         `json:"revocation_reason"`
	Expired          bool            `json:"expired"`
	Expiration       Timestamp       `json:"expiration"`
	CreatedBy        *string         `json:"created_by"`
	LastUsedAt       Timestamp       `json:"last_used_at"`
	CreatedAt        Timestamp       `json:"created_at"`
	UpdatedAt        Timestamp       `json:"updated_at"`
}

type OAuthAccessToken struct {
	Object           string    `json:"object"`
	ID               string    `json:"id"`
	ClientID         string    `json:"client_id"`
	Subject          string    `json:"subject"`
	Scopes           []string  `json:"scopes"`
	Revoked          bool      `json:"revoked"`
	RevocationReason *string   `json:"revocation_reason"`
	Expired          bool      `json:"expired"`
	Expiration       Timestamp `json:"expiration"`
	CreatedAt        Timestamp `json:"created_at"`
	UpdatedAt        Timestamp `json:"updated_at"`
	Active           *bool     `json:"active,omitempty"`
}

func (c *Client) VerifyAPIKey(ctx context.Context, secret string) (*APIKey, error) {
	var k APIKey
	if err := c.do(ctx, http.MethodPost, "/api_keys/verify", nil, map[string]string{"secret": secret}, &k); err != nil {
		return nil, err
	}
	return &k, nil
}

func (c *Client) VerifyOAuthAccessToken(ctx context.Context, token string) (*OAuthAccessToken, error) {
	var t OAuthAccessToken
	if err := c.do(ctx, http.MethodPost, "/oauth_applications/access_tokens/verify", nil, map[string]string{"access_token": token}, &t); err != nil {
		return nil, err
	}
	return &t, nil
}
