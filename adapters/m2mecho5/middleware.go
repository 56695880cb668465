package m2mecho5

import (
	"github.com/labstack/echo/v5"

	"github.com/m2mauth/m2mauth/middleware"
)

// Middleware returns Echo middleware that authenticates every request with a:
// MiddlewareWithConfig(Config{Authenticator: a}). It never swallows the next
// handler's error. It panics if a is nil.
func Middleware(a *middleware.Authenticator) echo.MiddlewareFunc {
	if a == nil {
		panic("m2mecho5: Middleware(nil)") // a wiring error: fail at start-up, not per request
	}
	return MiddlewareWithConfig(Config{Authenticator: a})
}
