package m2mgin

import (
	"github.com/gin-gonic/gin"

	"github.com/m2mauth/m2mauth/middleware"
	"github.com/m2mauth/m2mauth/verifier"
)

// DefaultContextKey is the c.Set key of the verified token unless
// Config.ContextKey says otherwise.
const DefaultContextKey = "m2mauth_token"

// Token returns the verified token of an authenticated request: the one
// stored with c.Set under DefaultContextKey, else the one in the request's
// context (where the middleware stores it whatever Config.ContextKey is).
func Token(c *gin.Context) (*verifier.Token, bool) {
	if v, ok := c.Get(DefaultContextKey); ok {
		if t, ok := v.(*verifier.Token); ok && t != nil {
			return t, true
		}
	}
	if c.Request == nil {
		return nil, false
	}
	return middleware.TokenFromContext(c.Request.Context())
}
