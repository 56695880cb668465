package m2mclient

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/internal/wire"
)

// Token is a live M2M token as a [TokenSource] hands it out. Tokens are shared
// between callers: treat them as read-only.
//
// Value is the bearer secret. Token's String and GoString leave it out, so
// printing a Token with the fmt verbs %v, %+v, %s or %#v does not reveal it.
type Token struct {
	Value     string               // the secret bearer value; never log it
	ID        string               // mt_… token ID, safe to log, used to revoke
	Subject   string               // the machine that created the token (mch_…)
	Scopes    []string             // machine IDs the token may call
	Claims    json.RawMessage      // custom claims; nil when none
	Format    clerkapi.TokenFormat // opaque or jwt
	ExpiresAt time.Time            // local time of expiry; zero: never expires

	authz string // "Bearer " + Value, built once
}

func newToken(m *clerkapi.M2MToken, format clerkapi.TokenFormat, expiresAt time.Time) *Token {
	var claims json.RawMessage
	if len(m.Claims) > 0 && string(m.Claims) != "null" {
		claims = m.Claims
	}
	if format == "" {
		format = clerkapi.FormatOpaque
		if wire.IsJWT(m.Token) {
			format = clerkapi.FormatJWT
		}
	}
	return &Token{
		Value:     m.Token,
		ID:        m.ID,
		Subject:   m.Subject,
		Scopes:    m.Scopes,
		Claims:    claims,
		Format:    format,
		ExpiresAt: expiresAt,
		authz:     "Bearer " + m.Token,
	}
}

// SetAuthHeader sets r's Authorization header to "Bearer " + the token's value.
// It modifies r: a RoundTripper must call it on a copy.
func (t *Token) SetAuthHeader(r *http.Request) {
	if r.Header == nil {
		r.Header = make(http.Header, 1)
	}
	r.Header["Authorization"] = []string{t.authorization()}
}

func (t *Token) authorization() string {
	if t.authz == "" { // a Token built by hand
		return "Bearer " + t.Value
	}
	return t.authz
}

// ExpiredAt reports whether the token has expired at now.
func (t *Token) ExpiredAt(now time.Time) bool {
	return !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt)
}

// String describes the token without its secret value.
func (t *Token) String() string {
	if t == nil {
		return "m2mclient.Token(nil)"
	}
	exp := "never"
	if !t.ExpiresAt.IsZero() {
		exp = t.ExpiresAt.UTC().Format(time.RFC3339)
	}
	return "m2mclient.Token{ID: " + t.ID + ", Subject: " + t.Subject + ", Format: " + string(t.Format) + ", ExpiresAt: " + exp + "}"
}

// GoString is String, so %#v does not reveal the secret value either.
func (t *Token) GoString() string { return t.String() }
