// Package m2mgin adapts a middleware.Authenticator to Gin as a gin.HandlerFunc.
//
// An authenticated request reaches the next handler with its verified token in
// c.Request.Context() (read it with Token or middleware.TokenFromContext). A
// refused one is aborted with AbortWithStatusJSON (status, WWW-Authenticate,
// Retry-After, Cache-Control and a {"error": …, "error_description": …} body);
// the cause is also attached with c.Error (as a private error) for logging
// middleware. With middleware.WithErrorHandler set, that handler writes the
// response to c.Writer instead and the chain is aborted.
//
// The middleware is safe for concurrent use.
package m2mgin
