// Package m2mhttp adapts a middleware.Authenticator to net/http, in the
// func(http.Handler) http.Handler shape that chi, gorilla/mux and plain
// net/http use.
//
// An authenticated request reaches the next handler with its verified token in
// r.Context() (read it with middleware.TokenFromContext or Token); a refused
// one is answered by the Authenticator (Response, or its WithErrorHandler) and
// never reaches it.
//
// The middleware is safe for concurrent use.
package m2mhttp
