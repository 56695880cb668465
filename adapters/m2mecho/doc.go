// Package m2mecho adapts a middleware.Authenticator to Echo v4 as an
// echo.MiddlewareFunc: Middleware(a) for the defaults, MiddlewareWithConfig
// (or Config.ToMiddleware) with Echo's own hooks, as in Echo's KeyAuthConfig:
// a Skipper of echo.Context, an ErrorHandler whose returned error goes to
// Echo's HTTPErrorHandler, ContinueOnIgnoredError, and the c.Set key.
//
// An authenticated request reaches the next handler with its verified token
// both in c.Get(Config.ContextKey) (DefaultContextKey, "m2mauth_token",
// unless set) and in c.Request().Context(); read it with Token, c.Get or
// middleware.TokenFromContext.
//
// A refusal is returned the Echo way: the headers every adapter sends
// (WWW-Authenticate, Retry-After, Cache-Control, X-Content-Type-Options; see
// middleware.Response.SetHeaders) are set on c.Response() and an
// *echo.HTTPError is returned whose Message is a Message (rendered by Echo's
// default HTTPErrorHandler as application/json {"error": …,
// "error_description": …}, printed as the refusal's description) and whose
// Internal is the cause (errors.Is reaches verifier.ErrInvalidToken and the
// like through it). Config.ErrorHandler, or
// else the Authenticator's middleware.WithErrorHandler, may answer instead.
//
// The middleware is safe for concurrent use.
package m2mecho
