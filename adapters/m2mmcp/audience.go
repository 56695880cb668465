package m2mmcp

import (
	"context"

	"github.com/modelcontextprotocol/go-sdk/oauthex"

	"github.com/m2mauth/m2mauth/middleware"
	"github.com/m2mauth/m2mauth/verifier"
)

// errOtherResource refuses an OAuth access token issued for another
// resource: 401 invalid_token, as the MCP authorization spec asks.
var errOtherResource = &verifier.InvalidTokenError{Reason: "token issued for another resource"}

// audienceVerifier is the Verifier the Authenticator is built on: v, and
// then RFC 8707's rule on an OAuth access token that names its audience (a
// JWT's aud): the audience must include resource, compared as the Go SDK's
// oauthex.MatchesResource compares (exactly, but for a trailing slash).
//
// It is a Verifier rather than a middleware.Check so that the token is
// refused as invalid_token before the policy runs (a token for another
// resource is invalid here, whatever its scopes), without the success hook
// or the handler seeing it. The check costs no call: it reads the verified
// (usually cached) token.
//
// An opaque token carries no audience (Clerk's verify answer has none) and
// neither does a JWT issued without a resource: both pass on their kind and
// scopes alone. M2M tokens are not concerned: their aud lists machine IDs,
// which middleware.WithAudience checks.
type audienceVerifier struct {
	v        middleware.Verifier
	resource string
}

func (a audienceVerifier) Verify(ctx context.Context, token, source string) (*verifier.Token, error) {
	tok, err := a.v.Verify(ctx, token, source)
	if err != nil || tok == nil {
		return tok, err
	}
	if tok.Kind == verifier.KindOAuth && len(tok.Audience) > 0 && !oauthex.MatchesResource(tok.Audience, a.resource) {
		return nil, errOtherResource
	}
	return tok, nil
}

// EnforcesAudience and Verifies forward what the wrapped Verifier tells
// middleware.New (a *verifier.Verifier has both): whether Clerk already
// refuses M2M tokens not granted to this service, and which kinds its key can
// verify. A Verifier without them is answered as middleware.New treats one
// without them.

func (a audienceVerifier) EnforcesAudience() bool {
	e, ok := a.v.(interface{ EnforcesAudience() bool })
	return ok && e.EnforcesAudience()
}

func (a audienceVerifier) Verifies(k verifier.Kind) bool {
	kv, ok := a.v.(interface{ Verifies(verifier.Kind) bool })
	return !ok || kv.Verifies(k)
}
