package verifier

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/internal/wire"
)

// jwtAlgorithms are the signature algorithms accepted: Clerk signs with RS256.
var jwtAlgorithms = []jose.SignatureAlgorithm{jose.RS256}

// The reasons a JWT is invalid: fixed strings, never a part of the token.
var (
	errJWTMalformed   = &InvalidTokenError{Reason: "malformed JWT or algorithm other than RS256"}
	errJWTCategory    = &InvalidTokenError{Reason: "JWT of a foreign token category (not an M2M token)"}
	errJWTNoKeyID     = &InvalidTokenError{Reason: "JWT without a key ID"}
	errJWTSignature   = &InvalidTokenError{Reason: "bad JWT signature"}
	errJWTClaims      = &InvalidTokenError{Reason: "malformed JWT claims"}
	errJWTSubject     = &InvalidTokenError{Reason: "JWT subject is not a machine ID"}
	errJWTID          = &InvalidTokenError{Reason: "JWT ID (jti) is not an M2M token ID (mt_…)"}
	errJWTScopes      = &InvalidTokenError{Reason: "JWT scopes claim is not a string"}
	errOAuthType      = &InvalidTokenError{Reason: "JWT type is not at+jwt (not an OAuth access token)"}
	errOAuthSubject   = &InvalidTokenError{Reason: "OAuth access token subject is not a user ID"}
	errOAuthClient    = &InvalidTokenError{Reason: "OAuth access token without a client_id"}
	errOAuthID        = &InvalidTokenError{Reason: "JWT ID (jti) is not an OAuth token ID (oat_…)"}
	errOAuthScopes    = &InvalidTokenError{Reason: "OAuth access token scope claim is malformed"}
	errOAuthNoExpiry  = &InvalidTokenError{Reason: "OAuth access token without an expiry"}
	errJWTNotYetValid = &InvalidTokenError{Reason: "token not yet valid"}
	errJWTFuture      = &InvalidTokenError{Reason: "token issued in the future"}
)

// jwtMaxIDLen bounds a jti: Clerk's are mt_ + 32 hex digits, or base62 in
// @clerk/backend's fixtures.
const jwtMaxIDLen = 128

// validJWTID reports whether jti is acceptable as the ID of a JWT whose IDs
// start with prefix (mt_, oat_): absent (empty), or prefix followed by 1 to
// jwtMaxIDLen-len(prefix) base64url characters. The exact alphabet and
// length of Clerk's JWT IDs are not documented (32 hex digits, base62 like
// mt_2xKa9Bgv7NxMRDFyQw8LpZ3cTmU1vHjE): nothing is checked beyond the prefix
// and a safe charset.
func validJWTID(jti, prefix string) bool {
	if jti == "" {
		return true
	}
	rest, ok := strings.CutPrefix(jti, prefix)
	if !ok || rest == "" || len(jti) > jwtMaxIDLen {
		return false
	}
	for i := 0; i < len(rest); i++ {
		if c := rest[i]; charClass[c]&classJWT == 0 || c == '.' {
			return false
		}
	}
	return true
}

// isLocalJWT reports whether token, which passed checkSyntax, is verified
// here rather than by Clerk: a JWT-shaped token (one without the prefix of an
// opaque one), with a Clerk secret key.
func (v *Verifier) isLocalJWT(token string) bool {
	return v.localJWT && !strings.HasPrefix(token, "mt_") && !strings.HasPrefix(token, "ak_") && !strings.HasPrefix(token, "oat_")
}

// resolveJWT is resolve for a JWT-format token of kind verified locally:
// signature against the instance's JWKS, header and claims on the
// Verifier's clock. A valid token is stored until min(TTL, exp + leeway), a
// failed check is remembered like Clerk's refusal; a JWKS that cannot be had
// is an error (ErrUnavailable or ErrMisconfigured), never a refusal.
func (v *Verifier) resolveJWT(ctx context.Context, token string, kind Kind) verdict {
	v.stats.localJWT.Add(1)
	t, err := v.checkJWT(ctx, token, kind)
	if err != nil {
		var inv *InvalidTokenError
		if errors.As(err, &inv) {
			return verdict{refused: inv, local: true}
		}
		return verdict{err: err}
	}
	d := verdict{tok: t, expires: t.ExpiresAt, local: true}
	if !d.expires.IsZero() {
		d.expires = d.expires.Add(wire.JWTLeeway)
	}
	return d
}

// checkJWT verifies token, a JWT of kind, and returns its Token, an
// *InvalidTokenError, or the JWKS fetch's error. ctx carries values only (an
// Observer's span), for a fetch of the JWKS. What both kinds share: a
// compact JWS with alg RS256 and a kid of the instance's set, a valid
// signature, exp, nbf and iat with wire.JWTLeeway of skew; then each kind's
// header and claims (m2mClaims, oauthClaims).
func (v *Verifier) checkJWT(ctx context.Context, token string, kind Kind) (*Token, error) {
	jws, err := jwt.ParseSigned(token, jwtAlgorithms)
	if err != nil || len(jws.Headers) != 1 {
		return nil, errJWTMalformed
	}
	h := jws.Headers[0]
	switch kind {
	case KindM2M:
		if cat, ok := h.ExtraHeaders["cat"]; ok && cat != wire.JWTCategory {
			return nil, errJWTCategory
		}
	case KindOAuth:
		if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != oauthJWTTypes[0] && typ != oauthJWTTypes[1] {
			return nil, errOAuthType
		}
	}
	if h.KeyID == "" {
		return nil, errJWTNoKeyID
	}
	pub, err := v.signingKey(ctx, h.KeyID)
	if err != nil {
		return nil, err
	}
	var raw map[string]json.RawMessage
	var std jwt.Claims
	if err := jws.Claims(pub, &raw, &std); err != nil {
		if errors.Is(err, jose.ErrCryptoFailure) {
			return nil, errJWTSignature
		}
		return nil, errJWTClaims
	}
	now := v.now()
	switch {
	case std.Expiry != nil && !now.Before(std.Expiry.Time().Add(wire.JWTLeeway)):
		return nil, errTokenExpired
	case std.NotBefore != nil && now.Add(wire.JWTLeeway).Before(std.NotBefore.Time()):
		return nil, errJWTNotYetValid
	case std.IssuedAt != nil && now.Add(wire.JWTLeeway).Before(std.IssuedAt.Time()):
		return nil, errJWTFuture
	}
	t := &Token{Kind: kind, ID: std.ID, Subject: std.Subject, Format: clerkapi.FormatJWT}
	if len(std.Audience) > 0 {
		t.Audience = slices.Clone([]string(std.Audience))
	}
	if std.Expiry != nil {
		t.ExpiresAt = std.Expiry.Time()
	}
	if std.IssuedAt != nil {
		t.CreatedAt = std.IssuedAt.Time()
	}
	check, reserved := m2mClaims, wire.ReservedClaims[:]
	if kind == KindOAuth {
		check, reserved = oauthClaims, oauthReservedClaims[:]
	}
	if err := check(t, &std, raw); err != nil {
		return nil, err
	}
	for _, k := range reserved {
		delete(raw, k)
	}
	if len(raw) > 0 {
		if t.Claims, err = json.Marshal(raw); err != nil {
			return nil, errJWTClaims
		}
	}
	return t, nil
}

// m2mClaims checks the claims of an M2M JWT and fills t's scopes: sub a
// machine ID, jti absent or mt_…, scopes from "scopes" (space-separated)
// or else "aud". exp may be absent (the token never expires).
func m2mClaims(t *Token, std *jwt.Claims, raw map[string]json.RawMessage) error {
	if !clerkapi.MachineIDPattern.MatchString(std.Subject) {
		return errJWTSubject
	}
	if !validJWTID(std.ID, "mt_") {
		return errJWTID
	}
	if rs, ok := raw["scopes"]; ok {
		var s string
		if json.Unmarshal(rs, &s) != nil {
			return errJWTScopes
		}
		t.Scopes = slices.Clip(strings.Fields(s))
	} else {
		t.Scopes = slices.Clone(t.Audience)
	}
	return nil
}

// oauthReservedClaims are the payload names of an OAuth JWT that are not
// custom claims.
var oauthReservedClaims = [...]string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "scope", "scp", "client_id"}

// oauthClaims checks the claims of an OAuth access token JWT, as Clerk
// issues them, and fills t's scopes and client: exp required, sub a user ID
// (user_…), a client_id, jti absent or oat_…, scopes from "scp" (an array) or
// else "scope" (space-separated).
func oauthClaims(t *Token, std *jwt.Claims, raw map[string]json.RawMessage) error {
	if std.Expiry == nil {
		return errOAuthNoExpiry
	}
	if rest, ok := strings.CutPrefix(std.Subject, "user_"); !ok || rest == "" || strings.ContainsFunc(rest, notWord) {
		return errOAuthSubject
	}
	if !validJWTID(std.ID, "oat_") {
		return errOAuthID
	}
	if json.Unmarshal(raw["client_id"], &t.ClientID) != nil || t.ClientID == "" {
		return errOAuthClient
	}
	if rs, ok := raw["scp"]; ok {
		if json.Unmarshal(rs, &t.Scopes) != nil {
			return errOAuthScopes
		}
	} else if rs, ok := raw["scope"]; ok {
		var s string
		if json.Unmarshal(rs, &s) != nil {
			return errOAuthScopes
		}
		t.Scopes = strings.Fields(s)
	}
	t.Scopes = slices.Clip(t.Scopes)
	return nil
}

// notWord reports whether r is outside \w (ASCII letters, digits, '_').
func notWord(r rune) bool {
	return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_')
}
