package verifier

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/internal/wire"
)

// Token is a verified machine credential: an M2M token, an API key or an
// OAuth access token (Kind says which). Tokens returned by a Verifier may be
// shared between requests (they come from a cache): treat them as read-only.
type Token struct {
	Kind Kind
	// ID is the credential's ID, never its secret value: mt_… (M2M), ak_…
	// (API key), oat_… (OAuth); "" for a JWT without jti.
	ID string
	// Subject is who presents it: the calling machine (mch_…) for an M2M
	// token; the user (user_…), organization (org_…) or machine (mch_…) an
	// API key was issued to; the user who granted an OAuth token (user_…).
	Subject string
	// Scopes are, for an M2M token, the machine IDs it may call; for an API
	// key or an OAuth token, its free-form scopes ("read", "mcp"…).
	Scopes []string
	// Claims are the custom claims (M2M tokens, API keys) as raw JSON; nil
	// when there are none.
	Claims    json.RawMessage
	ExpiresAt time.Time // zero when the token never expires
	CreatedAt time.Time
	Format    clerkapi.TokenFormat // opaque or jwt
	Name      string               // an API key's name; "" for the other kinds
	ClientID  string               // the OAuth application an OAuth token was issued to; "" for the other kinds
	// Audience is a JWT's aud claim (for an OAuth token, the resources it was
	// issued for, RFC 8707; for an M2M token, the machines it may call); nil
	// for an opaque token or a JWT without one.
	Audience []string
}

// HasScope reports whether scope is among the token's scopes: for an M2M
// token, whether it was granted access to the machine scope (mch_…); for an
// API key or an OAuth token, whether it carries that scope.
func (t *Token) HasScope(scope string) bool {
	return scope != "" && slices.Contains(t.Scopes, scope)
}

// HasScopes reports whether every one of scopes is among the token's scopes
// (true when none are asked).
func (t *Token) HasScopes(scopes ...string) bool {
	for _, s := range scopes {
		if !t.HasScope(s) {
			return false
		}
	}
	return true
}

// IsMachine reports whether the subject is a machine (mch_…): an M2M token,
// or an API key issued to a machine.
func (t *Token) IsMachine() bool { return strings.HasPrefix(t.Subject, "mch_") }

// IsUser reports whether the subject is a user (user_…): an OAuth token, or
// an API key issued to a user.
func (t *Token) IsUser() bool { return strings.HasPrefix(t.Subject, "user_") }

// IsOrganization reports whether the subject is an organization (org_…): an
// API key issued to an organization.
func (t *Token) IsOrganization() bool { return strings.HasPrefix(t.Subject, "org_") }

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
		Kind:      KindM2M,
		ID:        m.ID,
		Subject:   m.Subject,
		Scopes:    slices.Clip(m.Scopes),
		ExpiresAt: m.Expiration.Time,
		CreatedAt: m.CreatedAt.Time,
		Format:    clerkapi.FormatOpaque,
	}
	t.Claims = claimsOf(m.Claims)
	if wire.IsJWT(raw) {
		t.Format = clerkapi.FormatJWT
	}
	return t
}

// claimsOf returns Clerk's claims as the Token's: nil when absent or null.
func claimsOf(raw json.RawMessage) json.RawMessage {
	if c := bytes.TrimSpace(raw); len(c) > 0 && !bytes.Equal(c, []byte("null")) {
		return bytes.Clone(c)
	}
	return nil
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
