package verifier

import (
	"bytes"
	"slices"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/internal/wire"
)

// newToken builds the Token for Clerk's answer m about the token value raw.
func newToken(m *clerkapi.M2MToken, raw string) *Token {
	t := &Token{
		ID:        m.ID,
		Subject:   m.Subject,
		Scopes:    slices.Clip(m.Scopes),
		ExpiresAt: m.Expiration.Time,
		CreatedAt: m.CreatedAt.Time,
		Format:    FormatOpaque,
	}
	if c := bytes.TrimSpace(m.Claims); len(c) > 0 && !bytes.Equal(c, []byte("null")) {
		t.Claims = bytes.Clone(c)
	}
	if wire.IsJWT(raw) {
		t.Format = FormatJWT
	}
	return t
}
