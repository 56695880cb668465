package m2mmcp

import (
	"context"
	"math"
	"net/http"

	"github.com/modelcontextprotocol/go-sdk/auth"

	"github.com/m2mauth/m2mauth/middleware"
	"github.com/m2mauth/m2mauth/verifier"
)

// Middleware returns next behind the ResourceServer: put it in front of the
// SDK's mcp.NewStreamableHTTPHandler (or any handler of the MCP endpoint).
//
// A request with a valid token reaches next with the token in its context
// twice: as the SDK's *auth.TokenInfo (auth.TokenInfoFromContext, which the
// SDK's streamable handler passes to every MCP handler as
// req.Extra.TokenInfo; see Token) and as the *verifier.Token
// (middleware.TokenFromContext). A request that WithOptional or WithSkipper
// lets through without a token reaches next with neither.
//
// A refused request is answered as the Authenticator answers it
// (middleware.Response: status, Retry-After, Cache-Control: no-store, a JSON
// body) with the challenge MCP clients need: every 401 and 403
// WWW-Authenticate also carries resource_metadata="MetadataURL()", and a
// 401 the scope="…" of Config.Scopes, so that a client can discover the
// authorization server and the scopes to ask for:
//
//	no token                 401 Bearer realm="api", resource_metadata="…", scope="mcp"
//	invalid, expired, revoked,
//	other kind, other resource 401 Bearer realm="api", error="invalid_token", error_description="…", resource_metadata="…", scope="mcp"
//	missing scope            403 Bearer realm="api", error="insufficient_scope", error_description="…", scope="mcp", resource_metadata="…"
//	source over its budget   429 Retry-After
//	Clerk unavailable        503 Retry-After
//	misconfigured            500
func (s *ResourceServer) Middleware(next http.Handler) http.Handler {
	withInfo := auth.RequireBearerToken(tokenInfo, &bridgeOptions)(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, err := s.a.Authenticate(r)
		if err != nil {
			s.refuse(w, err)
			return
		}
		if tok == nil {
			next.ServeHTTP(w, r)
			return
		}
		withInfo.ServeHTTP(w, r.WithContext(middleware.NewContext(r.Context(), tok)))
	})
}

// refuse writes the Authenticator's answer to err, with the MCP challenge
// parameters on a 401 or 403.
func (s *ResourceServer) refuse(w http.ResponseWriter, err error) {
	resp := s.a.Response(err)
	params := ""
	switch resp.Status {
	case http.StatusUnauthorized:
		params = s.params401
	case http.StatusForbidden:
		params = s.params403
	}
	if params != "" {
		if resp.WWWAuthenticate == "" { // the Authenticator always sets one; fail safe
			resp.WWWAuthenticate = "Bearer " + params[2:]
		} else {
			resp.WWWAuthenticate += params
		}
	}
	resp.Write(w)
}

// The SDK keeps its TokenInfo under an unexported context key that only
// auth.RequireBearerToken sets: Middleware hands it, once the
// Authenticator has let the request through, a TokenVerifier (tokenInfo)
// that verifies nothing but returns the TokenInfo of the token already
// verified, found in the request's context. The SDK middleware then checks
// nothing the Authenticator has not (no scopes are given to it; the
// verifier enforced the token's expiry with its own clock and leeway), so it
// refuses nothing: bridgeOptions allow a token without expiry (an M2M token
// or API key may have none) and an unbounded clock skew.
var bridgeOptions = auth.RequireBearerTokenOptions{AllowMissingExpiration: true, ClockSkew: math.MaxInt64}

// tokenInfo is the TokenVerifier of the bridge: the SDK's view of the
// token the Authenticator verified (it fails closed without one).
func tokenInfo(ctx context.Context, _ string, _ *http.Request) (*auth.TokenInfo, error) {
	tok, ok := middleware.TokenFromContext(ctx)
	if !ok {
		return nil, auth.ErrInvalidToken
	}
	return newTokenInfo(tok), nil
}

// newTokenInfo is the SDK's TokenInfo of tok. Its Scopes are tok's (shared:
// read-only).
func newTokenInfo(tok *verifier.Token) *auth.TokenInfo {
	return &auth.TokenInfo{
		Scopes:     tok.Scopes,
		Expiration: tok.ExpiresAt,
		UserID:     tok.Subject,
		Extra:      map[string]any{ExtraKey: tok},
	}
}
