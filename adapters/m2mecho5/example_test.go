package m2mecho5_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/labstack/echo/v5"

	"github.com/m2mauth/m2mauth/adapters/m2mecho5"
	"github.com/m2mauth/m2mauth/middleware"
	"github.com/m2mauth/m2mauth/verifier"
)

func ExampleMiddlewareWithConfig() {
	// In production: v, err := verifier.New(os.Getenv("CLERK_SECRET_KEY")).
	v := middleware.VerifierFunc(func(_ context.Context, tok, _ string) (*verifier.Token, error) {
		if tok == "mt_good" {
			return &verifier.Token{Subject: "mch_caller", Scopes: []string{"mch_me"}}, nil
		}
		return nil, &verifier.InvalidTokenError{Reason: "token not found"}
	})
	a, err := middleware.New(v, middleware.WithAudience("mch_me"))
	if err != nil {
		panic(err)
	}
	e := echo.New()
	e.HTTPErrorHandler = func(c *echo.Context, err error) {
		var he *echo.HTTPError
		if errors.As(err, &he) { // a refusal holds one: Message is the reason
			fmt.Printf("refused: %d %s\n", he.Code, he.Message)
		}
		echo.DefaultHTTPErrorHandler(false)(c, err)
	}
	e.Use(m2mecho5.MiddlewareWithConfig(m2mecho5.Config{
		Authenticator: a,
		Skipper:       func(c *echo.Context) bool { return c.Request().URL.Path == "/healthz" },
		ErrorHandler: func(c *echo.Context, err error) error {
			if errors.Is(err, middleware.ErrMissingToken) {
				return echo.NewHTTPError(http.StatusUnauthorized, "send a bearer token")
			}
			return err // the default answer
		},
	}))
	e.GET("/whoami", func(c *echo.Context) error {
		tok := c.Get(m2mecho5.DefaultContextKey).(*verifier.Token) // or m2mecho5.Token(c)
		return c.String(http.StatusOK, "hello "+tok.Subject)
	})
	e.GET("/healthz", func(c *echo.Context) error { return c.String(http.StatusOK, "ok") })

	for _, req := range []struct{ path, auth string }{
		{"/whoami", "Bearer mt_good"}, {"/whoami", "Bearer mt_bad"}, {"/whoami", ""}, {"/healthz", ""},
	} {
		r := httptest.NewRequest(http.MethodGet, req.path, nil)
		if req.auth != "" {
			r.Header.Set("Authorization", req.auth)
		}
		w := httptest.NewRecorder()
		e.ServeHTTP(w, r)
		fmt.Printf("%s %q: %d %s\n", req.path, req.auth, w.Code, strings.TrimSpace(w.Body.String()))
	}
	// Output:
	// /whoami "Bearer mt_good": 200 hello mch_caller
	// refused: 401 token not found
	// /whoami "Bearer mt_bad": 401 {"error":"invalid_token","error_description":"token not found"}
	// refused: 401 send a bearer token
	// /whoami "": 401 {"message":"send a bearer token"}
	// /healthz "": 200 ok
}
