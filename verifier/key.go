package verifier

import (
	"fmt"
	"strings"
)

// Bounds of a secret key's tail, after its prefix.
const (
	keyMinTail = 8
	keyMaxTail = 512
)

// The problems checkKey reports, each with its fix.
var (
	errKeyEmpty       = fmt.Errorf("%w: it is empty; want a Clerk secret key (sk_test_…, sk_live_…) or a machine secret key (ak_…)", ErrSecretKey)
	errKeySpace       = fmt.Errorf("%w: it has white space or a newline around it; trim it (strings.TrimSpace)", ErrSecretKey)
	errKeyPublishable = fmt.Errorf("%w: it is Clerk's publishable key (pk_…), which is public; use the secret key (sk_…) or a machine secret key (ak_…)", ErrSecretKey)
	errKeyBearer      = fmt.Errorf(`%w: it starts with "Bearer "; pass the key alone`, ErrSecretKey)
	errKeyPrefix      = fmt.Errorf("%w: unknown prefix; want a Clerk secret key (sk_test_…, sk_live_…) or a machine secret key (ak_…)", ErrSecretKey)
	errKeyShort       = fmt.Errorf("%w: too short after its prefix to be a Clerk key", ErrSecretKey)
	errKeyLong        = fmt.Errorf("%w: too long (over %d bytes after its prefix) to be a Clerk key", ErrSecretKey, keyMaxTail)
	errKeyChars       = fmt.Errorf("%w: it contains white space, control or non-ASCII characters", ErrSecretKey)
)

// checkKey returns the kind of a secret key for logs ("sk_test", "sk_live",
// "ak"), or an error matching ErrSecretKey that says why secretKey is not an
// acceptable key. Neither ever holds any part of the key's secret. A key's
// tail may hold any printable ASCII but space: Clerk's keys hold letters,
// digits and, in its fixtures, / = + and the like.
func checkKey(secretKey string) (string, error) {
	if secretKey == "" {
		return "", errKeyEmpty
	}
	if strings.TrimSpace(secretKey) != secretKey {
		return "", errKeySpace
	}
	var kind, tail string
	switch {
	case strings.HasPrefix(secretKey, "sk_test_"):
		kind, tail = "sk_test", secretKey[len("sk_test_"):]
	case strings.HasPrefix(secretKey, "sk_live_"):
		kind, tail = "sk_live", secretKey[len("sk_live_"):]
	case strings.HasPrefix(secretKey, "ak_"):
		kind, tail = "ak", secretKey[len("ak_"):]
	case strings.HasPrefix(secretKey, "pk_test_"), strings.HasPrefix(secretKey, "pk_live_"):
		return "", errKeyPublishable
	case len(secretKey) > len("bearer ") && strings.EqualFold(secretKey[:len("bearer ")], "bearer "):
		return "", errKeyBearer
	default:
		return "", errKeyPrefix
	}
	switch {
	case len(tail) < keyMinTail:
		return "", errKeyShort
	case len(tail) > keyMaxTail:
		return "", errKeyLong
	}
	for i := 0; i < len(tail); i++ {
		if c := tail[i]; c <= ' ' || c > '~' {
			return "", errKeyChars
		}
	}
	return kind, nil
}

// EnforcesAudience reports whether Clerk itself refuses the tokens that were
// not granted to this service: true with a machine secret key (ak_…), with
// which Clerk's verify answers 404 for a token whose scopes lack the key's
// machine; false with a Clerk secret key (sk_…), with which Clerk, and the
// local JWT check, accept a token of any machine of the instance.
//
// middleware.New asks it to decide whether an Authenticator without an
// audience is safe; a wrapper around a Verifier can forward it. A nil
// Verifier enforces nothing.
func (v *Verifier) EnforcesAudience() bool {
	return v != nil && v.keyKind == "ak"
}
