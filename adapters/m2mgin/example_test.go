package m2mgin_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/m2mauth/m2mauth/adapters/m2mgin"
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
	r := gin.New()
	r.Use(m2mgin.MiddlewareWithConfig(m2mgin.Config{
		Authenticator: a,
		ErrorHandler: func(c *gin.Context, err error) {
			if errors.Is(err, middleware.ErrMissingToken) {
				c.AbortWithStatusJSON(http.StatusUnauthorized, gin.H{"message": "send a bearer token"})
			} // else nothing written: the default answer
		},
	}))
	r.GET("/whoami", func(c *gin.Context) {
		tok := c.MustGet(m2mgin.DefaultContextKey).(*verifier.Token) // or m2mgin.Token(c)
		c.String(http.StatusOK, "hello "+tok.Subject)
	})

	for _, auth := range []string{"Bearer mt_good", "Bearer mt_bad", ""} {
		req := httptest.NewRequest(http.MethodGet, "/whoami", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		fmt.Printf("%q: %d %s\n", auth, w.Code, strings.TrimSpace(w.Body.String()))
	}
	// Output:
	// "Bearer mt_good": 200 hello mch_caller
	// "Bearer mt_bad": 401 {"error":"invalid_token","error_description":"token not found"}
	// "": 401 {"message":"send a bearer token"}
}
