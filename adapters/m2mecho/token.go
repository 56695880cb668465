package m2mecho

import (
	"github.com/labstack/echo/v4"

	"github.com/m2mauth/m2mauth/middleware"
	"github.com/m2mauth/m2mauth/verifier"
)

// DefaultContextKey is the c.Set key of the verified token unless
// Config.ContextKey says otherwise.
const DefaultContextKey = "m2mauth_token"

// Token returns the verified token of an authenticated request: the one
// stored with c.Set under DefaultContextKey, else the one in the request's
// context (where the middleware stores it whatever Config.ContextKey is).
func Token(c echo.Context) (*verifier.Token, bool) {
	if t, ok := c.Get(DefaultContextKey).(*verifier.Token); ok && t != nil {
		return t, true
	}
	return middleware.TokenFromContext(c.Request().Context())
}
