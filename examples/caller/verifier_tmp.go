package main

import (
	"context"
	"errors"
	"net/http"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/middleware"
	"github.com/m2mauth/m2mauth/verifier"
)

// newVerifier is a stand-in until package verifier has New: it asks Clerk on
// every request.
func newVerifier(secretKey, apiURL string) (middleware.Verifier, func(), error) {
	api, err := clerkapi.New(secretKey, clerkapi.WithBaseURL(apiURL))
	if err != nil {
		return nil, nil, err
	}
	return middleware.VerifierFunc(func(ctx context.Context, tok string) (*verifier.Token, error) {
		m, err := api.VerifyToken(ctx, tok)
		var ae *clerkapi.APIError
		if errors.As(err, &ae) && ae.StatusCode == http.StatusNotFound {
			return nil, &verifier.InvalidTokenError{Reason: "unknown token", Err: err}
		}
		if err != nil {
			return nil, &verifier.UnavailableError{Err: err}
		}
		return &verifier.Token{ID: m.ID, Subject: m.Subject, Scopes: m.Scopes, ExpiresAt: m.Expiration.Time}, nil
	}), func() {}, nil
}
