package m2mhttp

import (
	"net/http"

	"github.com/m2mauth/m2mauth/middleware"
	"github.com/m2mauth/m2mauth/verifier"
)

// Middleware returns net/http middleware that authenticates every request
// with a (it panics if a is nil). On a cached token it adds two allocations
// to the request: the context carrying the token and the request copy
// (r.WithContext).
func Middleware(a *middleware.Authenticator) func(http.Handler) http.Handler {
	if a == nil {
		panic("m2mhttp: Middleware(nil)") // a wiring error: fail at start-up, not per request
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			tok, err := a.Authenticate(r)
			if err != nil {
				a.WriteError(w, r, err)
				return
			}
			if tok != nil {
				r = r.WithContext(middleware.NewContext(r.Context(), tok))
			}
			next.ServeHTTP(w, r)
		})
	}
}

// Token returns the verified token of an authenticated request.
func Token(r *http.Request) (*verifier.Token, bool) {
	return middleware.TokenFromContext(r.Context())
}
