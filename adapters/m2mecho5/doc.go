// Package m2mecho5 adapts a middleware.Authenticator to Echo v5
// (github.com/labstack/echo/v5) as an echo.MiddlewareFunc, with the
// behaviour of adapters/m2mecho (Echo v4) in v5's types: Middleware(a) for
// the defaults, MiddlewareWithConfig (or Config.ToMiddleware) with Echo's own
// hooks, as in Echo's KeyAuthConfig: a Skipper of *echo.Context, an
// ErrorHandler whose returned error goes to Echo's HTTPErrorHandler,
// ContinueOnIgnoredError, and the c.Set key.
//
// An authenticated request reaches the next handler with its verified token
// both in c.Get(Config.ContextKey) (DefaultContextKey, "m2mauth_token",
// unless set) and in c.Request().Context(); read it with Token, c.Get or
// middleware.TokenFromContext.
//
// A refusal is returned the Echo v5 way: the headers every adapter sends
// (WWW-Authenticate, Retry-After, Cache-Control, X-Content-Type-Options; see
// middleware.Response.SetHeaders) are set on c.Response() and a
// *RefusalError is returned. It is an echo.HTTPStatusCoder and a
// json.Marshaler, so Echo's DefaultHTTPErrorHandler answers its status with
// the application/json body every adapter sends, {"error": …,
// "error_description": …}; it wraps an
// *echo.HTTPError whose Message is the refusal's description, which wraps
// the cause, so errors.As finds the HTTPError and errors.Is reaches
// verifier.ErrInvalidToken and the like. Config.ErrorHandler, or else the
// Authenticator's middleware.WithErrorHandler, may answer instead.
//
// The middleware is safe for concurrent use.
package m2mecho5
