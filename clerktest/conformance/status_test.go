package conformance_test

import (
	"errors"

	"github.com/clerk/clerk-sdk-go/v2"

	"github.com/m2mauth/m2mauth/clerkapi"
)

// statusOf returns the HTTP status of an error answer as clerkapi or Clerk's
// official SDK reports it, and 0 for any other error.
func statusOf(err error) int {
	var ae *clerkapi.APIError
	var se *clerk.APIErrorResponse
	switch {
	case errors.As(err, &ae):
		return ae.StatusCode
	case errors.As(err, &se):
		return se.HTTPStatusCode
	}
	return 0
}
