package m2mgin

import (
	"github.com/gin-gonic/gin"

	"github.com/m2mauth/m2mauth/middleware"
	"github.com/m2mauth/m2mauth/verifier"
)

// Middleware returns Gin middleware that authenticates every request with a.
// It panics if a is nil.
func Middleware(a *middleware.Authenticator) gin.HandlerFunc {
	if a == nil {
		panic("m2mgin: Middleware(nil)") // a wiring error: fail at start-up, not per request
	}
	return func(c *gin.Context) {
		tok, err := a.Authenticate(c.Request)
		if err != nil {
			_ = c.Error(err).SetType(gin.ErrorTypePrivate)
			if h := a.ErrorHandler(); h != nil {
				h(c.Writer, c.Request, err)
				c.Abort()
				return
			}
			resp := a.Response(err)
			resp.SetHeaders(c.Writer.Header())
			c.AbortWithStatusJSON(resp.Status, resp.Body)
			return
		}
		if tok != nil {
			c.Request = c.Request.WithContext(middleware.NewContext(c.Request.Context(), tok))
		}
		c.Next()
	}
}

// Token returns the verified token of an authenticated request.
func Token(c *gin.Context) (*verifier.Token, bool) {
	return middleware.TokenFromContext(c.Request.Context())
}
