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
	errJWTNotYetValid = &InvalidTokenError{Reason: "token not yet valid"}
	errJWTFuture      = &InvalidTokenError{Reason: "token issued in the future"}
)

// jwtMaxIDLen bounds a jti: Clerk's are mt_ + 32 hex digits, or base62 in
// @clerk/backend's fixtures.
const jwtMaxIDLen = 128

// validJWTID reports whether jti is acceptable as a JWT's ID: absent (empty),
// or mt_ followed by 1 to jwtMaxIDLen-3 base64url characters. The exact
// alphabet and length of Clerk's JWT IDs are not documented (32 hex digits,
// base62 like mt_2xKa9Bgv7NxMRDFyQw8LpZ3cTmU1vHjE): nothing is checked beyond
// the prefix and a safe charset.
func validJWTID(jti string) bool {
	if jti == "" {
		return true
	}
	rest, ok := strings.CutPrefix(jti, "mt_")
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
// here rather than by Clerk: a JWT-shaped token, with a Clerk secret key.
func (v *Verifier) isLocalJWT(token string) bool {
	return v.localJWT && !strings.HasPrefix(token, "mt_")
}

// resolveJWT is resolve for a JWT-format token verified locally: signature
// against the instance's JWKS, header and claims on the Verifier's clock. A
// valid token is stored until min(TTL, exp + leeway), a failed check is
// remembered like Clerk's refusal; a JWKS that cannot be had is an error
// (ErrUnavailable or ErrMisconfigured), never a refusal.
func (v *Verifier) resolveJWT(ctx context.Context, token string) verdict {
	v.stats.localJWT.Add(1)
	t, err := v.checkJWT(ctx, token)
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

// checkJWT verifies token and returns its Token, an *InvalidTokenError, or the
// JWKS fetch's error. ctx carries values only (an Observer's span), for a
// fetch of the JWKS.
func (v *Verifier) checkJWT(ctx context.Context, token string) (*Token, error) {
	jws, err := jwt.ParseSigned(token, jwtAlgorithms)
	if err != nil || len(jws.Headers) != 1 {
		return nil, errJWTMalformed
	}
	h := jws.Headers[0]
	if cat, ok := h.ExtraHeaders["cat"]; ok && cat != wire.JWTCategory {
		return nil, errJWTCategory
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
	if !clerkapi.MachineIDPattern.MatchString(std.Subject) {
		return nil, errJWTSubject
	}
	if !validJWTID(std.ID) {
		return nil, errJWTID
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
	t := &Token{ID: std.ID, Subject: std.Subject, Format: clerkapi.FormatJWT}
	if rs, ok := raw["scopes"]; ok {
		var s string
		if json.Unmarshal(rs, &s) != nil {
			return nil, errJWTScopes
		}
		t.Scopes = slices.Clip(strings.Fields(s))
	} else {
		t.Scopes = slices.Clone([]string(std.Audience))
	}
	if std.Expiry != nil {
		t.ExpiresAt = std.Expiry.Time()
	}
	if std.IssuedAt != nil {
		t.CreatedAt = std.IssuedAt.Time()
	}
	for _, k := range wire.ReservedClaims {
		delete(raw, k)
	}
	if len(raw) > 0 {
		if t.Claims, err = json.Marshal(raw); err != nil {
			return nil, errJWTClaims
		}
	}
	return t, nil
}
