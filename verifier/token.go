package verifier

import (
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
)

// Format is the format of an M2M token's value: clerkapi's token_format.
type Format = clerkapi.TokenFormat

// The formats of M2M tokens.
const (
	FormatOpaque = clerkapi.FormatOpaque // mt_…
	FormatJWT    = clerkapi.FormatJWT    // three base64url segments
)

// Token is a verified M2M token. Tokens returned by a Verifier may be shared
// between requests (they come from a cache): treat them as read-only.
type Token struct {
	ID      string   // mt_… token ID (never the secret value); "" for a JWT without jti
	Subject string   // the calling machine (mch_…)
	Scopes  []string // machine IDs the token may call
	// Claims are the token's custom claims as raw JSON; nil when it has none.
	Claims    json.RawMessage
	ExpiresAt time.Time // zero when the token never expires
	CreatedAt time.Time
	Format    Format
}

// HasScope reports whether machineID is among the token's scopes, that is,
// whether the token was granted access to that machine.
func (t *Token) HasScope(machineID string) bool {
	return machineID != "" && slices.Contains(t.Scopes, machineID)
}

// DecodeClaims unmarshals the token's custom claims into v. A token without
// claims leaves v untouched and returns nil.
func (t *Token) DecodeClaims(v any) error {
	if len(t.Claims) == 0 {
		return nil
	}
	if v == nil {
		return errors.New("verifier: DecodeClaims(nil)")
	}
	return json.Unmarshal(t.Claims, v)
}

// ExpiredAt reports whether the token has expired at now.
func (t *Token) ExpiredAt(now time.Time) bool {
	return !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt)
}
