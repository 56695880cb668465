package middleware

import (
	"net/http"

	"github.com/m2mauth/m2mauth/internal/wire"
)

// An Extractor finds the bearer token in a request. It returns (token, nil)
// when it found one, ("", nil) when the request carries no token at all (which
// WithOptional lets through), and an error when the credentials are present
// but malformed. Every error is answered with 401 as ErrMissingToken; the text
// of an error that is not a *MissingTokenError is never shown to the caller.
type Extractor func(r *http.Request) (string, error)

// BearerToken is the default Extractor. It reads the single Authorization
// header "Bearer <token>" (RFC 6750 §2.1; the scheme is case-insensitive, one
// or more spaces may follow it). The token must be a non-empty RFC 7235
// token68 (letters, digits, - . _ ~ + / followed by optional =), so it never
// contains spaces or control characters, and the header at most 32 KiB + 64
// bytes: "Bearer " and a token of up to 32 KiB, the verifier's bound. Clerk's
// opaque tokens are about 35 bytes; its JWTs list the scoped machines twice
// and reach about 14 KB for a machine scoped to 150. Go's http.Server reads
// up to 1 MiB of headers by default (MaxHeaderBytes); a proxy in front may
// need a larger header buffer for such JWTs (nginx's
// large_client_header_buffers is 8 KiB by default).
//
// Every failure is a *MissingTokenError (matching ErrMissingToken). No
// Authorization header, or one with another scheme, counts as "no token",
// which WithOptional lets through; more than one Authorization header, a value
// over that bound, an empty or malformed token count as
// malformed and are refused even with WithOptional.
//
// BearerToken does not allocate.
func BearerToken(r *http.Request) (string, error) {
	tok, err := bearer(r.Header["Authorization"])
	if err != nil { // not a nil *MissingTokenError in a non-nil error
		return "", err
	}
	return tok, nil
}

// parseBearer applies BearerToken's rules to the values of an authorization
// field outside HTTP (gRPC metadata "authorization", say): one value at most,
// no longer than BearerToken's bound, "Bearer " and an RFC 7235 token68. It
// returns the token; ("", nil) when vals hold no bearer credentials at all
// (no value, or another scheme), which Authenticator.AuthenticateBearer treats
// as "no token"; and a *MissingTokenError (matching ErrMissingToken) when
// they are malformed.
//
// parseBearer does not allocate.
func parseBearer(vals []string) (string, error) {
	tok, err := bearer(vals)
	switch {
	case err == nil:
		return tok, nil
	case err.absent:
		return "", nil
	}
	return "", err
}

// bearer holds the rules of BearerToken and parseBearer.
func bearer(vals []string) (string, *MissingTokenError) {
	switch len(vals) {
	case 0:
		return "", errNoToken
	case 1:
	default:
		return "", errMultiple
	}
	v := vals[0]
	if len(v) > wire.MaxAuthorizationLen {
		return "", errTooLarge
	}
	// Go's server trims the value; a hand-built request may not have.
	v = trimOWS(v)
	const scheme = "bearer"
	if len(v) < len(scheme) || !equalFoldASCII(v[:len(scheme)], scheme) {
		return "", errOtherScheme
	}
	rest := v[len(scheme):]
	if rest == "" {
		return "", errEmptyToken
	}
	if rest[0] != ' ' {
		return "", errOtherScheme // e.g. "Bearerx …": another scheme
	}
	i := 0
	for i < len(rest) && rest[i] == ' ' {
		i++
	}
	tok := rest[i:]
	if tok == "" {
		return "", errEmptyToken
	}
	if !wire.IsToken68(tok) {
		return "", errMalformed
	}
	return tok, nil
}

func trimOWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// equalFoldASCII reports whether s equals the lower-case ASCII word lower,
// ignoring ASCII case.
func equalFoldASCII(s, lower string) bool {
	if len(s) != len(lower) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}
