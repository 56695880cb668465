package clerkapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Error codes Clerk returns that callers commonly match on.
const (
	CodeMachineSecretKeyInvalid = "machine_secret_key_invalid"
	CodeUnauthorized            = "unauthorized"
	CodeResourceNotFound        = "resource_not_found"
	CodeFormParamUnknown        = "form_param_unknown"
	CodeRequestBodyInvalid      = "request_body_invalid"
	CodeTooManyRequests         = "too_many_requests"
)

// ErrorDetail is one entry of Clerk's "errors" array.
type ErrorDetail struct {
	Message     string          `json:"message"`
	LongMessage string          `json:"long_message"`
	Code        string          `json:"code"`
	Meta        json.RawMessage `json:"meta,omitempty"`
}

// ErrorBody is the JSON body of Clerk's non-2xx answers.
type ErrorBody struct {
	Errors       []ErrorDetail   `json:"errors"`
	Meta         json.RawMessage `json:"meta,omitempty"`
	ClerkTraceID string          `json:"clerk_trace_id,omitempty"`
}

// APIError is a non-2xx answer of the Backend API.
type APIError struct {
	StatusCode int
	Errors     []ErrorDetail // empty when the body was not Clerk's error JSON
	TraceID    string        // clerk_trace_id, when sent
	// RetryAfter is the parsed Retry-After header (seconds or HTTP date); zero
	// when absent or unparseable.
	RetryAfter time.Duration
}

// Error describes the status and Clerk's error codes and messages. It never
// includes a request's secret key or token.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("clerkapi: ")
	b.WriteString(strconv.Itoa(e.StatusCode))
	if t := http.StatusText(e.StatusCode); t != "" {
		b.WriteString(" ")
		b.WriteString(t)
	}
	for i, d := range e.Errors {
		if i == 3 {
			b.WriteString("; …")
			break
		}
		b.WriteString("; ")
		if d.Code != "" {
			b.WriteString(d.Code)
			b.WriteString(": ")
		}
		b.WriteString(truncate(d.Message, 200))
	}
	if e.TraceID != "" {
		b.WriteString(" (trace ")
		b.WriteString(truncate(e.TraceID, 64))
		b.WriteString(")")
	}
	return b.String()
}

// IsClerkError reports whether the body was Clerk's error JSON: an "errors"
// array with at least one entry carrying a non-empty "code". An HTML page, a
// redirect, an empty body or JSON of another shape (a proxy's, another
// service's) is not: such an answer did not come from Clerk's Backend API,
// whatever its status code.
func (e *APIError) IsClerkError() bool {
	for _, d := range e.Errors {
		if d.Code != "" {
			return true
		}
	}
	return false
}

// HasCode reports whether any of Clerk's errors carries code.
func (e *APIError) HasCode(code string) bool {
	for _, d := range e.Errors {
		if d.Code == code {
			return true
		}
	}
	return false
}

func newAPIError(resp *http.Response, body []byte) *APIError {
	e := &APIError{
		StatusCode: resp.StatusCode,
		RetryAfter: ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
	}
	var eb ErrorBody
	if json.Unmarshal(body, &eb) == nil {
		e.Errors = eb.Errors
		e.TraceID = eb.ClerkTraceID
	}
	return e
}

// ParseRetryAfter parses a Retry-After header value, either delay-seconds or an
// HTTP date relative to now. It returns zero for an empty, invalid or past value.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		if n > 24*60*60 { // a day at most: no upstream gets to park us for longer
			n = 24 * 60 * 60
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return min(d, 24*time.Hour)
		}
	}
	return 0
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
