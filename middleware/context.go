package middleware

import (
	"context"

	"github.com/m2mauth/m2mauth/verifier"
)

// tokenKey is the context key of the verified token; unexported so that only
// this package can set it.
type tokenKey struct{}

// NewContext returns a copy of ctx carrying the verified token t.
func NewContext(ctx context.Context, t *verifier.Token) context.Context {
	return context.WithValue(ctx, tokenKey{}, t)
}

// TokenFromContext returns the verified token stored in ctx by NewContext (as
// every adapter does for an authenticated request), and whether there was one.
func TokenFromContext(ctx context.Context) (*verifier.Token, bool) {
	t, ok := ctx.Value(tokenKey{}).(*verifier.Token)
	return t, ok && t != nil
}
