package m2mecho5

import (
	"encoding/json"

	"github.com/m2mauth/m2mauth/middleware"
)

// A RefusalError is what the middleware returns to Echo for a refused
// request. Echo v5's *echo.HTTPError holds only a string Message, so the
// refusal is a type of its own that knows its status (echo.HTTPStatusCoder)
// and its JSON body (json.Marshaler), as Echo's DefaultHTTPErrorHandler
// expects; it wraps an *echo.HTTPError (Code: Status, Message: the body's
// description) that wraps the cause, so a custom HTTPErrorHandler's
// errors.As(err, &httpErr) reads a useful Message and errors.Is(err,
// verifier.ErrInvalidToken) and the like hold.
type RefusalError struct {
	// Status is the HTTP status of the refusal (401, 403, 429, 499, 500, 503).
	Status int
	// Body is the JSON body; it never contains the token.
	Body middleware.ErrorBody

	http error // *echo.HTTPError wrapping the cause
}

// StatusCode returns Status (echo.HTTPStatusCoder).
func (e *RefusalError) StatusCode() int { return e.Status }

// MarshalJSON returns Body as JSON: {"error": …, "error_description": …}.
func (e *RefusalError) MarshalJSON() ([]byte, error) { return json.Marshal(e.Body) }

// Error returns the wrapped *echo.HTTPError's text:
// "code=401, message=<description>, err=<cause>".
func (e *RefusalError) Error() string { return e.http.Error() }

// Unwrap returns the wrapped *echo.HTTPError, which unwraps to the cause.
func (e *RefusalError) Unwrap() error { return e.http }
