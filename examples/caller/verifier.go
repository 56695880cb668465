package main

import (
	"github.com/m2mauth/m2mauth/middleware"
	"github.com/m2mauth/m2mauth/verifier"
)

// newVerifier returns a caching verifier that asks Clerk at apiURL with
// secretKey, and the function that closes it.
func newVerifier(secretKey, apiURL string) (middleware.Verifier, func(), error) {
	v, err := verifier.New(secretKey, verifier.WithBaseURL(apiURL))
	if err != nil {
		return nil, nil, err
	}
	return v, func() { v.Close() }, nil
}
