package wire

import "time"

// JWTCategory is the "cat" header of Clerk's M2M JWTs. A JWT of another
// category (a session token, an OAuth token…) is not an M2M token; one without
// the header (minted before 2026-05-27) is accepted, as @clerk/backend does.
const JWTCategory = "cl_B7d4PD333AAA"

// JWTLeeway is the clock skew allowed for a JWT's exp, nbf and iat, as
// @clerk/backend allows.
const JWTLeeway = 5 * time.Second

// ReservedClaims are the payload names of an M2M JWT that are not custom
// claims: the custom claims are the payload minus these.
var ReservedClaims = [...]string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "scopes"}

// IsBase64URLChar reports whether c is in the base64url alphabet (RFC 4648
// §5, no padding): ALPHA / DIGIT / "-" / "_".
func IsBase64URLChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

// IsJWT reports whether s has the shape of a JWS in compact serialisation:
// three non-empty base64url segments separated by dots. It says nothing of
// what the segments decode to.
func IsJWT(s string) bool {
	dots, seg := 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '.':
			if seg == 0 {
				return false
			}
			dots++
			seg = 0
		case IsBase64URLChar(c):
			seg++
		default:
			return false
		}
	}
	return dots == 2 && seg > 0
}

// opaqueKinds are the prefixes of Clerk's opaque machine credentials and
// Clerk's names of their kinds (verifier.Kind): an inbound ak_… is an API
// key's secret, never a machine secret key.
var opaqueKinds = [...]struct{ prefix, kind string }{
	{"mt_", "m2m_token"},
	{"ak_", "api_key"},
	{"oat_", "oauth_token"},
}

// OpaqueKind returns Clerk's name of the kind of an opaque machine
// credential by its prefix ("m2m_token", "api_key", "oauth_token"), or ""
// for anything else (a JWT, whose kind is in its claims, or junk). It reads
// the prefix only and does not allocate.
func OpaqueKind(token string) string {
	for _, k := range opaqueKinds {
		if len(token) >= len(k.prefix) && token[:len(k.prefix)] == k.prefix {
			return k.kind
		}
	}
	return ""
}
