package middleware

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/m2mauth/m2mauth/internal/wire"
	"github.com/m2mauth/m2mauth/verifier"
)

// The "error" values of the JSON body, and the status of a request whose
// client left.
const (
	CodeMissingToken        = "missing_token"           // 401, no challenge error code (RFC 6750 §3.1)
	CodeInvalidToken        = "invalid_token"           // 401
	CodeInsufficientScope   = "insufficient_scope"      // 403
	CodeUnavailable         = "temporarily_unavailable" // 503
	CodeServerError         = "server_error"            // 500
	CodeClientClosedRequest = "client_closed_request"   // 499
	CodeTooManyRequests     = "too_many_requests"       // 429

	// StatusClientClosedRequest is the status recorded when the request's
	// context ended before its token was verified (nginx's 499). The client
	// is usually gone and never sees it; it keeps such requests apart from
	// real 401s and 503s in logs and metrics.
	StatusClientClosedRequest = 499
)

// ErrorBody is the JSON body of every refusal. It never contains the token;
// its Description is the error_description of the challenge, when there is
// one.
type ErrorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
	Scope       string `json:"scope,omitempty"` // a 403's required scopes, as in the challenge
}

// Response is how a refusal is answered; adapters write it natively.
type Response struct {
	Status int
	// WWWAuthenticate is the RFC 6750 challenge, printable ASCII; empty for
	// 499, 500 and 503.
	WWWAuthenticate string
	// RetryAfter is delay-seconds; set only for 503 and 429.
	RetryAfter string
	Body       ErrorBody
}

// Response maps an error returned by Authenticate to its default answer.
func (a *Authenticator) Response(err error) Response {
	switch {
	case errors.Is(err, ErrClientGone):
		return Response{Status: StatusClientClosedRequest, Body: ErrorBody{
			Error: CodeClientClosedRequest, Description: "the request ended before its token was verified"}}
	case errors.Is(err, ErrMissingToken):
		reason := errNoToken.Reason
		var me *MissingTokenError
		if errors.As(err, &me) {
			reason = describe(me.Reason, reason)
		}
		return Response{Status: http.StatusUnauthorized, WWWAuthenticate: a.challenge,
			Body: ErrorBody{Error: CodeMissingToken, Description: reason}}
	case errors.Is(err, verifier.ErrInvalidToken):
		reason := "invalid token"
		var ie *verifier.InvalidTokenError
		if errors.As(err, &ie) {
			reason = describe(ie.Reason, reason)
		}
		return Response{Status: http.StatusUnauthorized, WWWAuthenticate: a.invalidPrefix + reason + `"`,
			Body: ErrorBody{Error: CodeInvalidToken, Description: reason}}
	case errors.Is(err, ErrForbidden):
		reason, scope := reasonCheckError, ""
		var fe *ForbiddenError
		if errors.As(err, &fe) {
			reason, scope = describe(fe.Reason, reason), describe(fe.Scope, "")
		}
		challenge := a.forbiddenPrefix + reason + `"`
		if scope != "" {
			challenge += `, scope="` + scope + `"`
		}
		return Response{Status: http.StatusForbidden, WWWAuthenticate: challenge,
			Body: ErrorBody{Error: CodeInsufficientScope, Description: reason, Scope: scope}}
	case errors.Is(err, verifier.ErrUnavailable):
		ra := a.retryAfter
		if d := verifier.RetryAfter(err); d > 0 {
			ra = seconds(d)
		}
		return Response{Status: http.StatusServiceUnavailable, RetryAfter: ra,
			Body: ErrorBody{Error: CodeUnavailable, Description: "token verification is temporarily unavailable"}}
	case errors.Is(err, verifier.ErrRateLimited):
		return Response{Status: http.StatusTooManyRequests, RetryAfter: seconds(verifier.RetryAfter(err)),
			Body: ErrorBody{Error: CodeTooManyRequests, Description: "too many new tokens from this client: retry later"}}
	case errors.Is(err, verifier.ErrMisconfigured):
		return Response{Status: http.StatusInternalServerError,
			Body: ErrorBody{Error: CodeServerError, Description: "token verification is misconfigured"}}
	default:
		return Response{Status: http.StatusInternalServerError,
			Body: ErrorBody{Error: CodeServerError, Description: "token verification failed"}}
	}
}

// SetHeaders sets the headers every adapter sends with a refusal on h:
// WWW-Authenticate and Retry-After (when the response has them),
// Cache-Control: no-store and X-Content-Type-Options: nosniff. It is the one
// home of those headers: Write calls it, and so do the adapters that leave
// the body to their framework (m2mecho, m2mecho5, m2mgin), before the
// framework writes it.
//
// It does not set Content-Type, which belongs to whoever writes the body:
// Write sets application/json, the frameworks' JSON renderers set it too
// (Gin with "; charset=utf-8", Echo without, as RFC 8259 defines no charset
// parameter for JSON), and an error handler that answers in another format
// sets its own.
func (resp Response) SetHeaders(h http.Header) {
	if resp.WWWAuthenticate != "" {
		h.Set("WWW-Authenticate", resp.WWWAuthenticate)
	}
	if resp.RetryAfter != "" {
		h.Set("Retry-After", resp.RetryAfter)
	}
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
}

// JSON returns the body as JSON.
func (resp Response) JSON() []byte {
	b, err := json.Marshal(resp.Body)
	if err != nil { // cannot happen: two strings
		return []byte(`{"error":"server_error"}`)
	}
	return b
}

// Write writes the whole response (headers, status, JSON body) to w.
func (resp Response) Write(w http.ResponseWriter) {
	h := w.Header()
	resp.SetHeaders(h)
	h.Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(resp.Status)
	_, _ = w.Write(resp.JSON())
}

// seconds formats d as whole delay-seconds, rounded up, at least 1.
func seconds(d time.Duration) string {
	return strconv.FormatInt(max(1, wire.CeilSeconds(d)), 10)
}
