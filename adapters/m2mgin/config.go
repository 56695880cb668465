package m2mgin

import (
	"cmp"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/m2mauth/m2mauth/middleware"
)

// Config configures the middleware built by MiddlewareWithConfig or
// Config.ToMiddleware.
type Config struct {
	// Authenticator verifies every request. Required.
	Authenticator *middleware.Authenticator

	// ErrorHandler answers a refused request, the Gin way: it writes the
	// response to c (c.JSON, c.AbortWithStatusJSON, …). err is the cause, one
	// of the errors documented on middleware.Authenticator.Authenticate; it is
	// also in c.Errors, and the refusal's headers (WWW-Authenticate,
	// Retry-After, Cache-Control, X-Content-Type-Options) are already set on
	// c.Writer. The chain is aborted before it runs, so c.Next() there runs
	// nothing (to let requests without a token through, use
	// middleware.WithOptional); if it wrote nothing and set no status, the
	// default answer is written (a refused request is never answered 200).
	// It takes precedence over middleware.WithErrorHandler.
	//
	// Default: none (AbortWithStatusJSON with the refusal's status and
	// {"error": …, "error_description": …}, or the Authenticator's
	// middleware.WithErrorHandler if it has one).
	ErrorHandler func(c *gin.Context, err error)

	// ContextKey is the key under which the verified *verifier.Token is
	// stored with c.Set, besides the request's context.
	//
	// Default: DefaultContextKey ("m2mauth_token").
	ContextKey string
}

// MiddlewareWithConfig returns the middleware cfg describes. Like
// gin.LoggerWithConfig it returns the handler directly, and panics on an
// invalid configuration (a wiring error to fail at start-up);
// Config.ToMiddleware returns the error instead.
func MiddlewareWithConfig(cfg Config) gin.HandlerFunc {
	mw, err := cfg.ToMiddleware()
	if err != nil {
		panic(err)
	}
	return mw
}

// ToMiddleware returns the middleware cfg describes, or an error if cfg has
// no Authenticator.
func (cfg Config) ToMiddleware() (gin.HandlerFunc, error) {
	if cfg.Authenticator == nil {
		return nil, errors.New("m2mgin: Config.Authenticator is required")
	}
	h := &handler{cfg: cfg, key: cmp.Or(cfg.ContextKey, DefaultContextKey)}
	return h.handle, nil
}

// handler is a validated Config.
type handler struct {
	cfg Config
	key any // the c.Set key, boxed once: c.Set takes an any
}

func (h *handler) handle(c *gin.Context) {
	tok, err := h.cfg.Authenticator.Authenticate(c.Request)
	if err != nil {
		h.cfg.refuse(c, err)
		return
	}
	if tok != nil {
		c.Set(h.key, tok)
		c.Request = c.Request.WithContext(middleware.NewContext(c.Request.Context(), tok))
	}
	c.Next()
}

// refuse aborts a request that Authenticate refused with err, and answers
// it.
func (cfg Config) refuse(c *gin.Context, err error) {
	_ = c.Error(err).SetType(gin.ErrorTypePrivate) // for logging middleware
	// First: an error handler that calls c.Next() must not run the rest of
	// the chain (the protected handler) without a token.
	c.Abort()
	a := cfg.Authenticator
	if h := a.ErrorHandler(); cfg.ErrorHandler == nil && h != nil {
		h(c.Writer, c.Request, err)
		return
	}
	resp := a.Response(err)
	resp.SetHeaders(c.Writer.Header())
	if cfg.ErrorHandler != nil {
		cfg.ErrorHandler(c, err)
		if c.Writer.Written() || c.Writer.Status() != http.StatusOK {
			return // it answered (a status alone is written when the chain ends)
		}
	}
	c.AbortWithStatusJSON(resp.Status, resp.Body) // the default, or fail closed
}
