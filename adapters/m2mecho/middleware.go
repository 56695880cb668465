package m2mecho

import (
	"github.com/labstack/echo/v4"

	"github.com/m2mauth/m2mauth/middleware"
	"github.com/m2mauth/m2mauth/verifier"
)

// Middleware returns Echo middleware that authenticates every request with a.
// It never swallows the next handler's error. It panics if a is nil.
func Middleware(a *middleware.Authenticator) echo.MiddlewareFunc {
	if a == nil {
		panic("m2mecho: Middleware(nil)") // a wiring error: fail at start-up, not per request
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			tok, err := a.Authenticate(req)
			if err != nil {
				return refuse(a, c, err)
			}
			if tok != nil {
				c.SetRequest(req.WithContext(middleware.NewContext(req.Context(), tok)))
			}
			return next(c)
		}
	}
}

func refuse(a *middleware.Authenticator, c echo.Context, err error) error {
	if h := a.ErrorHandler(); h != nil {
		h(c.Response(), c.Request(), err)
		return nil
	}
	resp := a.Response(err)
	resp.SetHeaders(c.Response().Header())
	return &echo.HTTPError{Code: resp.Status, Message: resp.Body, Internal: err}
}

// Token returns the verified token of an authenticated request.
func Token(c echo.Context) (*verifier.Token, bool) {
	return middleware.TokenFromContext(c.Request().Context())
}
