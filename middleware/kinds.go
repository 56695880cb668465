package middleware

import (
	"errors"
	"slices"
	"strings"

	"github.com/m2mauth/m2mauth/internal/wire"
	"github.com/m2mauth/m2mauth/verifier"
)

// kinds is a set of token kinds, one bit each.
type kinds uint8

var allKinds = [...]verifier.Kind{verifier.KindM2M, verifier.KindAPIKey, verifier.KindOAuth}

func bit(k verifier.Kind) kinds {
	if i := slices.Index(allKinds[:], k); i >= 0 {
		return 1 << i
	}
	return 0
}

func (s kinds) with(k verifier.Kind) kinds { return s | bit(k) }
func (s kinds) has(k verifier.Kind) bool   { return s&bit(k) != 0 }
func (s kinds) only(k verifier.Kind) bool  { return s == bit(k) }
func (s kinds) each(f func(verifier.Kind)) {
	for _, k := range allKinds {
		if s.has(k) {
			f(k)
		}
	}
}

// WithAccept names the kinds of tokens the Authenticator accepts; a token of
// another kind is refused with 401 invalid_token, without a call to Clerk
// (an opaque token's kind is its prefix; a JWT's is read on verification,
// which for a JWT costs no call with a Clerk secret key). A later WithAccept
// replaces an earlier one.
//
// API keys and OAuth access tokens can be verified with the Clerk secret key
// (sk_…) only: with a *verifier.Verifier on a machine secret key (ak_…), New
// fails for them. The audience (WithAudience, WithAnyAudience) concerns M2M
// tokens only and is required only when they are accepted;
// WithRequiredScopes concerns API keys and OAuth tokens only.
//
// Default: verifier.KindM2M only.
func WithAccept(ks ...verifier.Kind) Option {
	return func(c *config) error {
		if len(ks) == 0 {
			return errors.New("middleware: WithAccept needs at least one kind")
		}
		var set kinds
		for _, k := range ks {
			if bit(k) == 0 {
				return errors.New("middleware: WithAccept: unknown kind " + quoteKind(k) + " (want verifier.KindM2M, KindAPIKey or KindOAuth)")
			}
			set = set.with(k)
		}
		c.accept = set
		return nil
	}
}

// WithRequiredScopes requires every one of scopes on an API key or an OAuth
// access token; one that lacks any is refused with 403 insufficient_scope,
// whose WWW-Authenticate names them all (RFC 6750's scope attribute,
// space-separated). M2M tokens are not concerned: their scopes are machine
// IDs, checked by WithAudience. Repeated uses add to the list.
//
// Default: none.
func WithRequiredScopes(scopes ...string) Option {
	return func(c *config) error {
		if len(scopes) == 0 {
			return errors.New("middleware: WithRequiredScopes needs at least one scope")
		}
		for _, s := range scopes {
			if s == "" || !isScopeToken(s) {
				return errors.New("middleware: WithRequiredScopes: a scope is printable ASCII without space, '\"' or '\\\\'")
			}
		}
		c.scopes = append(c.scopes, scopes...)
		return nil
	}
}

// isScopeToken reports whether s is an RFC 6749 scope-token: %x21 / %x23-5B
// / %x5D-7E.
func isScopeToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

func quoteKind(k verifier.Kind) string {
	s := string(k)
	if len(s) > 32 {
		s = s[:32] + "..."
	}
	return `"` + s + `"`
}

// kindOf is a verified token's kind: a Token without one (a fake Verifier's)
// is an M2M token, as every Token was before kinds.
func kindOf(t *verifier.Token) verifier.Kind {
	if t.Kind == "" {
		return verifier.KindM2M
	}
	return t.Kind
}

// opaqueKind is the kind of a raw token by its prefix, "" for a JWT.
func opaqueKind(raw string) verifier.Kind { return verifier.Kind(wire.OpaqueKind(raw)) }

// errKind refuses a token of a kind the Authenticator does not accept.
var errKind = &verifier.InvalidTokenError{Reason: "token of a kind this service does not accept"}

// scopeList is scopes as the challenge's scope attribute.
func scopeList(scopes []string) string { return strings.Join(scopes, " ") }

// kindVerifier is a Verifier that tells which kinds its key can verify, as
// *verifier.Verifier's Verifies does.
type kindVerifier interface {
	Verifies(verifier.Kind) bool
}

// checkKinds is New's rule on kinds: an Authenticator does not accept a kind
// its Verifier says it cannot verify.
func (c *config) checkKinds(v Verifier) error {
	kv, ok := v.(kindVerifier)
	if !ok {
		return nil
	}
	var err error
	c.accept.each(func(k verifier.Kind) {
		if err == nil && !kv.Verifies(k) {
			err = errors.New("middleware: New: WithAccept(" + string(k) + "): this Verifier cannot verify that kind " +
				"(API keys and OAuth access tokens need the Clerk secret key, sk_…, not a machine secret key, ak_…)")
		}
	})
	return err
}
