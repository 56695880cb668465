// Package m2mgin adapts a middleware.Authenticator to Gin as a
// gin.HandlerFunc: Middleware(a) for the defaults, MiddlewareWithConfig (or
// Config.ToMiddleware) with a Gin-style ErrorHandler and the c.Set key.
//
// An authenticated request reaches the next handler with its verified token
// both in c.Get(Config.ContextKey) (DefaultContextKey, "m2mauth_token",
// unless set) and in c.Request.Context(); read it with Token, c.Get or
// middleware.TokenFromContext.
//
// A refused request is aborted with AbortWithStatusJSON: its status, the
// headers every adapter sends (WWW-Authenticate, Retry-After, Cache-Control,
// X-Content-Type-Options; see middleware.Response.SetHeaders) and an
// application/json {"error": …, "error_description": …} body; the cause is
// also attached with c.Error (as a private error) for logging middleware.
// Config.ErrorHandler, or else the Authenticator's middleware.WithErrorHandler,
// writes the response instead; the chain is aborted before either runs, so
// neither can resume it.
//
// The middleware is safe for concurrent use.
package m2mgin
