package middleware

import (
	"errors"
)

var (
	// ErrMissingToken: the request carries no usable bearer token (no
	// Authorization header, another scheme, an empty or malformed token, more
	// than one Authorization header, or one that is too large). 401.
	ErrMissingToken = errors.New("middleware: missing or malformed bearer token")

	// ErrForbidden: the token is valid but this service's policy refuses it
	// (not scoped to this service, subject not allowed, a custom check). 403.
	ErrForbidden = errors.New("middleware: forbidden")

	// ErrClientGone: the request's context ended (the client disconnected or
	// the server's own deadline passed) before the token could be verified.
	// It says nothing about the token or Clerk. Answered with 499.
	ErrClientGone = errors.New("middleware: request context ended")

	// ErrNoAudience is returned by New when the Verifier accepts tokens of
	// any machine of the Clerk instance (a Clerk secret key, sk_…, or a
	// Verifier that does not say otherwise) and neither
	// WithAudience(machineID) nor WithAnyAudience was given: such an
	// Authenticator would let through a token that was never granted to this
	// service.
	ErrNoAudience = errors.New("middleware: New: this Verifier accepts a token of any machine of the Clerk instance " +
		"(a Clerk secret key, sk_…): add WithAudience(this service's machine ID, mch_…) to accept only tokens granted to this service, " +
		"or WithAnyAudience() to accept every machine of the instance")
)

// MissingTokenError says why no usable token was found. It matches
// ErrMissingToken.
type MissingTokenError struct {
	// Reason is a short phrase safe to show the caller, e.g. "no bearer token".
	Reason string
	// Err is the custom extractor's error, if any; never shown to the caller.
	Err error
	// absent is true when the request simply carries no bearer credentials
	// (as opposed to malformed ones); WithOptional lets those through.
	absent bool
}

func (e *MissingTokenError) Error() string        { return "middleware: missing token: " + e.Reason }
func (e *MissingTokenError) Is(target error) bool { return target == ErrMissingToken }
func (e *MissingTokenError) Unwrap() error        { return e.Err }

// ForbiddenError says why a valid token was refused. It matches ErrForbidden.
type ForbiddenError struct {
	// Reason is a short phrase safe to show the caller, e.g. "subject not allowed".
	Reason string
	// Scope is the scopes the request needs, space-separated (RFC 6750's scope
	// attribute of the challenge); "" for none.
	Scope string
	// Err is the custom check's error, if any; never shown to the caller.
	Err error
}

func (e *ForbiddenError) Error() string {
	if e.Err != nil {
		return "middleware: forbidden: " + e.Reason + ": " + e.Err.Error()
	}
	return "middleware: forbidden: " + e.Reason
}
func (e *ForbiddenError) Is(target error) bool { return target == ErrForbidden }
func (e *ForbiddenError) Unwrap() error        { return e.Err }

// Forbidden returns an error for a WithCheck function: the request is refused
// with 403 and reason (which must be safe to show the caller) as the
// error_description.
func Forbidden(reason string) error { return &ForbiddenError{Reason: reason} }

// clientGoneError wraps the request context's error; it matches ErrClientGone
// and, through Unwrap, context.Canceled or context.DeadlineExceeded.
type clientGoneError struct{ err error }

func (e *clientGoneError) Error() string        { return ErrClientGone.Error() + ": " + e.err.Error() }
func (e *clientGoneError) Is(target error) bool { return target == ErrClientGone }
func (e *clientGoneError) Unwrap() error        { return e.err }

// The extraction failures of the default extractor, allocated once.
var (
	errNoToken       = &MissingTokenError{Reason: "no bearer token", absent: true}
	errOtherScheme   = &MissingTokenError{Reason: "authorization scheme is not Bearer", absent: true}
	errMultiple      = &MissingTokenError{Reason: "more than one Authorization header"}
	errTooLarge      = &MissingTokenError{Reason: "Authorization header too large"}
	errEmptyToken    = &MissingTokenError{Reason: "empty bearer token"}
	errMalformed     = &MissingTokenError{Reason: "malformed bearer token"}
	errExtractorFail = "malformed credentials" // reason for a custom extractor's error
)

// The built-in policy refusals.
var (
	errNotAudience   = &ForbiddenError{Reason: "token not scoped to this service"}
	errSubject       = &ForbiddenError{Reason: "subject not allowed"}
	reasonCheckError = "refused by policy"
)
