package m2mgin

import (
	"github.com/gin-gonic/gin"

	"github.com/m2mauth/m2mauth/middleware"
)

// Middleware returns Gin middleware that authenticates every request with a:
// MiddlewareWithConfig(Config{Authenticator: a}). It panics if a is nil.
func Middleware(a *middleware.Authenticator) gin.HandlerFunc {
	if a == nil {
		panic("m2mgin: Middleware(nil)") // a wiring error: fail at start-up, not per request
	}
	return MiddlewareWithConfig(Config{Authenticator: a})
}
