package m2mmcp

import (
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/m2mauth/m2mauth/verifier"
)

// ExtraKey is the key of the verified *verifier.Token in the Extra map of the
// SDK's auth.TokenInfo that Middleware sets.
const ExtraKey = "m2mauth.token"

// Token returns the verified token of an MCP request that came through
// Middleware (for a tool handler: Token(req) with its *mcp.CallToolRequest),
// and whether there was one. The token is read-only; the same facts are in
// req.Extra.TokenInfo: UserID is its Subject (user_… for an OAuth token,
// mch_… for an M2M token), Scopes its Scopes, Expiration its ExpiresAt.
//
// It returns false for a request without a token (stdio, a request that
// WithOptional let through) and for a ClientRequest.
func Token(req mcp.Request) (*verifier.Token, bool) {
	if req == nil {
		return nil, false
	}
	extra := req.GetExtra()
	if extra == nil || extra.TokenInfo == nil {
		return nil, false
	}
	tok, ok := extra.TokenInfo.Extra[ExtraKey].(*verifier.Token)
	return tok, ok && tok != nil
}
