// Package m2mecho adapts a middleware.Authenticator to Echo v4 as an
// echo.MiddlewareFunc.
//
// An authenticated request reaches the next handler with its verified token in
// c.Request().Context() (read it with Token or middleware.TokenFromContext).
// A refusal is returned the Echo way: the headers (WWW-Authenticate,
// Retry-After, Cache-Control) are set on c.Response() and an *echo.HTTPError
// whose Message is a middleware.ErrorBody and whose Internal is the cause is
// returned, so the app's HTTPErrorHandler renders it (Echo's default renders
// {"error": …, "error_description": …}). With middleware.WithErrorHandler set,
// that handler writes the response instead and the middleware returns nil.
//
// The middleware is safe for concurrent use.
package m2mecho
