package verifier

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/internal/wire"
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
	Format    clerkapi.TokenFormat // opaque (mt_…) or jwt
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

// newToken builds the Token for Clerk's answer m about the token value raw.
func newToken(m *clerkapi.M2MToken, raw string) *Token {
	t := &Token{
		ID:        m.ID,
		Subject:   m.Subject,
		Scopes:    slices.Clip(m.Scopes),
		ExpiresAt: m.Expiration.Time,
		CreatedAt: m.CreatedAt.Time,
		Format:    clerkapi.FormatOpaque,
	}
	if c := bytes.TrimSpace(m.Claims); len(c) > 0 && !bytes.Equal(c, []byte("null")) {
		t.Claims = bytes.Clone(c)
	}
	if wire.IsJWT(raw) {
		t.Format = clerkapi.FormatJWT
	}
	return t
}

// deadline returns wall, a time from Clerk (no monotonic reading), as an
// instant on now's clock: now shifted by wall − now, so that with time.Now it
// carries a monotonic reading and the expiry checks of later hits are immune
// to steps of the wall clock. The zero time stays zero ("never").
func deadline(wall, now time.Time) time.Time {
	if wall.IsZero() {
		return time.Time{}
	}
	return now.Add(wall.Sub(now))
}
