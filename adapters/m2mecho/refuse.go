package m2mecho

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/m2mauth/m2mauth/middleware"
)

// refuse answers a request that Authenticate refused with err: by
// cfg.ErrorHandler, else by the Authenticator's middleware.WithErrorHandler,
// else by returning the refusal to Echo's HTTPErrorHandler.
func (cfg Config) refuse(c echo.Context, err error, next echo.HandlerFunc) error {
	a := cfg.Authenticator
	if cfg.ErrorHandler == nil {
		if h := a.ErrorHandler(); h != nil {
			h(c.Response(), c.Request(), err)
			return nil
		}
		return refusal(a, c, err)
	}
	he := refusal(a, c, err)
	if herr := cfg.ErrorHandler(c, he); herr != nil {
		return herr
	}
	if cfg.ContinueOnIgnoredError {
		// The request goes on: unset the headers refusal set, whichever
		// middleware.Response.SetHeaders sets.
		set := http.Header{}
		a.Response(err).SetHeaders(set)
		for name := range set {
			c.Response().Header().Del(name)
		}
		return next(c)
	}
	if !c.Response().Committed {
		return he // the handler wrote nothing: fail closed
	}
	return nil
}

// refusal sets the headers of err's default answer on c.Response() and
// returns the *echo.HTTPError that carries its status, body and cause.
func refusal(a *middleware.Authenticator, c echo.Context, err error) *echo.HTTPError {
	resp := a.Response(err)
	resp.SetHeaders(c.Response().Header())
	return &echo.HTTPError{Code: resp.Status, Message: Message{resp.Body}, Internal: err}
}
