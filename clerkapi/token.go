package clerkapi

import "encoding/json"

// TokenFormat is the format of a token's secret value: an M2M token's or an
// OAuth access token's.
type TokenFormat string

// The token formats Clerk mints.
const (
	FormatOpaque TokenFormat = "opaque" // mt_… or oat_…, verified by Clerk, revocable
	FormatJWT    TokenFormat = "jwt"    // RS256 JWT, verifiable with the instance's JWKS
)

// ObjectM2MToken is the "object" value of an M2M token.
const ObjectM2MToken = "machine_to_machine_token"

// M2MToken is Clerk's machine_to_machine_token object.
type M2MToken struct {
	Object  string `json:"object"`
	ID      string `json:"id"`      // mt_ + 32 hex
	Subject string `json:"subject"` // the machine that created the token (mch_…)
	// Claims is the token's custom claims as raw JSON; nil or "null" when none.
	Claims json.RawMessage `json:"claims,omitempty"`
	// Scopes are the machine IDs the token may call, snapshotted at creation.
	Scopes []string `json:"scopes"`
	// Token is the secret value. Clerk returns it only from Create.
	Token            string    `json:"token,omitempty"`
	Revoked          bool      `json:"revoked"`
	RevocationReason *string   `json:"revocation_reason"`
	Expired          bool      `json:"expired"`
	Expiration       Timestamp `json:"expiration"`   // zero: never expires
	LastUsedAt       Timestamp `json:"last_used_at"` // zero: never used (always for JWTs)
	CreatedAt        Timestamp `json:"created_at"`
	UpdatedAt        Timestamp `json:"updated_at"`
}

// M2MTokenList is one page of GET /m2m_tokens.
type M2MTokenList struct {
	M2MTokens  []*M2MToken `json:"m2m_tokens"`
	TotalCount int64       `json:"total_count"`
}

// CreateParams is the body of POST /m2m_tokens. Nil and zero fields are left
// out, so Clerk applies its defaults.
type CreateParams struct {
	// TokenFormat is opaque (Clerk's default) or jwt.
	TokenFormat TokenFormat `json:"token_format,omitempty"`
	// SecondsUntilExpiration is the token's lifetime; nil uses the machine's
	// default_token_ttl (3600 s unless changed).
	SecondsUntilExpiration *int64 `json:"seconds_until_expiration,omitempty"`
	// Claims are custom claims: any value that marshals to JSON.
	Claims any `json:"claims,omitempty"`
	// MinRemainingTTLSeconds asks Clerk to return an existing live opaque token
	// with identical claims and scopes and at least this much life left.
	MinRemainingTTLSeconds *int64 `json:"min_remaining_ttl_seconds,omitempty"`
}

// ListParams are the query parameters of GET /m2m_tokens.
type ListParams struct {
	Subject string // required: the machine whose tokens to list (mch_…)
	Revoked *bool  // include revoked tokens; nil: Clerk's default (false)
	Expired *bool  // include expired tokens; nil: Clerk's default (false)
	Limit   int    // 1–100; 0: Clerk's default (10)
	Offset  int    // ≥ 0
}

// RevokeParams is the body of POST /m2m_tokens/{id}/revoke.
type RevokeParams struct {
	RevocationReason *string `json:"revocation_reason"`
}

// VerifyParams is the body of POST /m2m_tokens/verify.
type VerifyParams struct {
	Token string `json:"token"`
}

// Int64 returns a pointer to v, for the optional fields of CreateParams.
func Int64(v int64) *int64 { return &v }

// Bool returns a pointer to v, for the optional fields of ListParams.
func Bool(v bool) *bool { return &v }

// String returns a pointer to v.
func String(v string) *string { return &v }
