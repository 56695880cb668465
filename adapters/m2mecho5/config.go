package m2mecho5

import (
	"cmp"
	"errors"

	"github.com/labstack/echo/v5"
	echomw "github.com/labstack/echo/v5/middleware"

	"github.com/m2mauth/m2mauth/middleware"
)

// Config configures the middleware built by MiddlewareWithConfig or
// Config.ToMiddleware, in the shape of Echo's own KeyAuthConfig.
type Config struct {
	// Authenticator verifies every request that is not skipped. Required.
	Authenticator *middleware.Authenticator

	// Skipper exempts the requests for which it returns true: they reach the
	// next handler without a token and without a call to the verifier.
	// The Authenticator's own middleware.WithSkipper still applies after it.
	//
	// Default: echomw.DefaultSkipper (no request is skipped).
	Skipper echomw.Skipper

	// ErrorHandler is called with the refusal of a request: the
	// *RefusalError that the middleware would return otherwise (the cause
	// and an *echo.HTTPError inside, which errors.Is and errors.As reach),
	// with the refusal's headers (WWW-Authenticate, Retry-After,
	// Cache-Control, X-Content-Type-Options) already set on c.Response().
	// The error it returns goes to Echo's HTTPErrorHandler; returning err
	// unchanged gives the default answer. When it returns nil:
	//   - with ContinueOnIgnoredError, the next handler runs, without a token
	//     and without those headers;
	//   - otherwise the chain stops there, with what the handler wrote; if it
	//     wrote nothing, err is returned anyway (a refused request is never
	//     answered 200).
	// It takes precedence over middleware.WithErrorHandler.
	//
	// Default: none (the refusal goes to HTTPErrorHandler, or to the
	// Authenticator's middleware.WithErrorHandler if it has one).
	ErrorHandler func(c *echo.Context, err error) error

	// ContinueOnIgnoredError lets the chain go on when ErrorHandler returns
	// nil, as in Echo's KeyAuthConfig: for routes that serve anonymous callers
	// too and check Token themselves. It requires ErrorHandler.
	//
	// Default: false.
	ContinueOnIgnoredError bool

	// ContextKey is the key under which the verified *verifier.Token is
	// stored with c.Set, besides the request's context.
	//
	// Default: DefaultContextKey ("m2mauth_token").
	ContextKey string
}

// MiddlewareWithConfig returns the middleware cfg describes. Like Echo's
// KeyAuthWithConfig it panics on an invalid configuration (a wiring error
// to fail at start-up); Config.ToMiddleware returns the error instead.
func MiddlewareWithConfig(cfg Config) echo.MiddlewareFunc {
	mw, err := cfg.ToMiddleware()
	if err != nil {
		panic(err)
	}
	return mw
}

// ToMiddleware returns the middleware cfg describes, or an error if cfg has
// no Authenticator or sets ContinueOnIgnoredError without an ErrorHandler.
// The middleware never swallows the next handler's error.
func (cfg Config) ToMiddleware() (echo.MiddlewareFunc, error) {
	if cfg.Authenticator == nil {
		return nil, errors.New("m2mecho5: Config.Authenticator is required")
	}
	if cfg.ContinueOnIgnoredError && cfg.ErrorHandler == nil {
		return nil, errors.New("m2mecho5: Config.ContinueOnIgnoredError needs an ErrorHandler")
	}
	if cfg.Skipper == nil {
		cfg.Skipper = echomw.DefaultSkipper
	}
	cfg.ContextKey = cmp.Or(cfg.ContextKey, DefaultContextKey)
	return (&handler{cfg}).middleware, nil
}

// handler is a validated Config. Its middleware method captures only a
// pointer to it: Echo may wrap a route's handler in its middleware on every
// request.
type handler struct{ cfg Config }

func (h *handler) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		if h.cfg.Skipper(c) {
			return next(c)
		}
		req := c.Request()
		tok, err := h.cfg.Authenticator.Authenticate(req)
		if err != nil {
			return h.cfg.refuse(c, err, next)
		}
		if tok != nil {
			c.Set(h.cfg.ContextKey, tok)
			c.SetRequest(req.WithContext(middleware.NewContext(req.Context(), tok)))
		}
		return next(c)
	}
}
