package verifier

import "strings"

// MaxTokenLength is the longest token Verify considers; longer ones are invalid
// without a call to Clerk.
const MaxTokenLength = 4096

// The reasons of the local checks: preallocated, so a flood of garbage costs no
// allocation.
var (
	errEmptyToken    = &InvalidTokenError{Reason: "empty token"}
	errTokenTooLong  = &InvalidTokenError{Reason: "token too long"}
	errTokenBadChars = &InvalidTokenError{Reason: "token contains characters not allowed in a bearer token"}
	errTokenShape    = &InvalidTokenError{Reason: "not an M2M token (neither mt_… nor a JWT)"}
)

// Bounds of the random part of an opaque token: Clerk's are mt_ + 32 characters.
const (
	opaqueMinRandom = 16
	opaqueMaxRandom = 256
)

// checkSyntax is the local check of step 1: it returns nil for a token that may
// be an M2M token (mt_… or JWT-shaped), else the reason it cannot be.
func checkSyntax(tok string) *InvalidTokenError {
	switch {
	case tok == "":
		return errEmptyToken
	case len(tok) > MaxTokenLength:
		return errTokenTooLong
	}
	for i := 0; i < len(tok); i++ {
		if !isTokenChar(tok[i]) {
			return errTokenBadChars
		}
	}
	if isOpaqueShaped(tok) || isJWTShaped(tok) {
		return nil
	}
	return errTokenShape
}

// isTokenChar reports whether c may appear in an RFC 6750 b64token:
// ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" / "=".
func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '-', '.', '_', '~', '+', '/', '=':
		return true
	}
	return false
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func isBase64URL(c byte) bool { return isAlnum(c) || c == '-' || c == '_' }

// isOpaqueShaped reports whether tok is mt_ followed by a plausible number of
// alphanumeric characters.
func isOpaqueShaped(tok string) bool {
	rest, ok := strings.CutPrefix(tok, "mt_")
	if !ok || len(rest) < opaqueMinRandom || len(rest) > opaqueMaxRandom {
		return false
	}
	for i := 0; i < len(rest); i++ {
		if !isAlnum(rest[i]) {
			return false
		}
	}
	return true
}

// isJWTShaped reports whether tok is three non-empty base64url segments
// separated by dots (a JWS in compact serialisation).
func isJWTShaped(tok string) bool {
	segments, segLen := 1, 0
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		switch {
		case c == '.':
			if segLen == 0 {
				return false
			}
			segments++
			segLen = 0
		case isBase64URL(c):
			segLen++
		default:
			return false
		}
	}
	return segments == 3 && segLen > 0
}

// keyKind returns the kind of a secret key for logs ("sk_test", "sk_live",
// "ak") or "" when secretKey is not an acceptable key. It never returns any
// part of the key's secret.
func keyKind(secretKey string) string {
	var kind, rest string
	switch {
	case strings.HasPrefix(secretKey, "sk_test_"):
		kind, rest = "sk_test", secretKey[len("sk_test_"):]
	case strings.HasPrefix(secretKey, "sk_live_"):
		kind, rest = "sk_live", secretKey[len("sk_live_"):]
	case strings.HasPrefix(secretKey, "ak_"):
		kind, rest = "ak", secretKey[len("ak_"):]
	default:
		return ""
	}
	if len(rest) < 8 || len(rest) > 512 {
		return ""
	}
	for i := 0; i < len(rest); i++ {
		if !isBase64URL(rest[i]) {
			return ""
		}
	}
	return kind
}
