package clerktest

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/m2mauth/m2mauth/clerkapi"
)

// apiError is one Clerk error answer: a status and the entries of "errors".
type apiError struct {
	status  int
	details []clerkapi.ErrorDetail
	header  http.Header // extra headers (Allow, Retry-After)
}

func (e *apiError) Error() string {
	if len(e.details) == 0 {
		return "clerktest: " + strconv.Itoa(e.status)
	}
	return "clerktest: " + strconv.Itoa(e.status) + " " + e.details[0].Code + ": " + e.details[0].LongMessage
}

// toClient converts e into the *clerkapi.APIError a client would see.
func (e *apiError) toClient() *clerkapi.APIError {
	return &clerkapi.APIError{StatusCode: e.status, Errors: e.details}
}

func newErr(status int, code, message, long string) *apiError {
	return &apiError{status: status, details: []clerkapi.ErrorDetail{{Message: message, LongMessage: long, Code: code}}}
}

func paramMeta(name string) json.RawMessage {
	b, _ := json.Marshal(map[string]string{"param_name": name})
	return b
}

func paramErr(status int, code, message, long, param string) *apiError {
	e := newErr(status, code, message, long)
	e.details[0].Meta = paramMeta(param)
	return e
}

// Clerk's error answers, by situation.

func errUnauthorized() *apiError {
	return newErr(http.StatusUnauthorized, clerkapi.CodeUnauthorized, "Unauthorized",
		"The request could not be authenticated: the Authorization header is missing or its secret key is invalid.")
}

func errMachineKeyInvalid() *apiError {
	return newErr(http.StatusUnauthorized, clerkapi.CodeMachineSecretKeyInvalid,
		"The provided Machine Secret Key is invalid. Make sure that your Machine Secret Key is correct.",
		"The provided Machine Secret Key is invalid. Make sure that your Machine Secret Key is correct.")
}

func errMachineKeyRequired() *apiError {
	return newErr(http.StatusUnauthorized, clerkapi.CodeMachineSecretKeyInvalid,
		"The provided Machine Secret Key is invalid. Make sure that your Machine Secret Key is correct.",
		"This endpoint must be authenticated with a Machine Secret Key (ak_…); a Clerk Secret Key cannot create M2M tokens.")
}

func errSecretKeyRequired() *apiError {
	return newErr(http.StatusForbidden, "authorization_invalid", "Unauthorized request",
		"This endpoint must be authenticated with the instance's Clerk Secret Key.")
}

// errSecretKeyOnly answers a valid machine secret key on an endpoint that
// only the Clerk secret key may call (API keys, OAuth).
func errSecretKeyOnly() *apiError {
	return newErr(http.StatusUnauthorized, clerkapi.CodeUnauthorized, "Unauthorized",
		"This endpoint must be authenticated with the instance's Clerk Secret Key (sk_…); a Machine Secret Key cannot call it.")
}

func errForbiddenSubject() *apiError {
	return newErr(http.StatusForbidden, "authorization_invalid", "Unauthorized request",
		"A Machine Secret Key can only access the M2M tokens of its own machine.")
}

func errNotFound(what string) *apiError {
	return newErr(http.StatusNotFound, clerkapi.CodeResourceNotFound, "not found", what+" not found")
}

func errTokenNotFound() *apiError {
	return newErr(http.StatusNotFound, clerkapi.CodeResourceNotFound, "Machine token not found",
		"The M2M token does not exist, was revoked, has expired or is not scoped to this machine.")
}

func errAPIKeyNotFound() *apiError {
	return newErr(http.StatusNotFound, clerkapi.CodeResourceNotFound, "API key not found",
		"The API key does not exist, was revoked or has expired.")
}

func errOAuthTokenNotFound() *apiError {
	return newErr(http.StatusNotFound, clerkapi.CodeResourceNotFound, "OAuth access token not found",
		"The OAuth access token does not exist, was revoked or has expired.")
}

func errPathNotFound() *apiError {
	return newErr(http.StatusNotFound, clerkapi.CodeResourceNotFound, "not found",
		"The requested resource does not exist.")
}

func errMethodNotAllowed(allow string) *apiError {
	e := newErr(http.StatusMethodNotAllowed, "method_not_allowed", "method not allowed",
		"This endpoint does not support the request's HTTP method.")
	e.header = http.Header{"Allow": {allow}}
	return e
}

func errBodyInvalid(long string) *apiError {
	return newErr(http.StatusBadRequest, clerkapi.CodeRequestBodyInvalid, "Request body invalid", long)
}

func errBodyTooLarge() *apiError {
	return newErr(http.StatusRequestEntityTooLarge, "request_body_too_large", "Request body too large",
		"The request body exceeds the limit of "+strconv.Itoa(maxRequestBody)+" bytes.")
}

func errParamUnknown(name string) *apiError {
	return paramErr(http.StatusBadRequest, clerkapi.CodeFormParamUnknown, "is unknown",
		name+" is not a valid parameter for this request.", name)
}

func errParamMissing(name string) *apiError {
	return paramErr(http.StatusBadRequest, "form_param_missing", "is missing",
		name+" must be included.", name)
}

func errParamFormat(name, long string) *apiError {
	return paramErr(http.StatusBadRequest, "form_param_format_invalid", "is invalid", long, name)
}

func errParamValue(name, long string) *apiError {
	return paramErr(http.StatusBadRequest, "form_param_value_invalid", "is invalid", long, name)
}

// errURLParam is the spec's example shape for a path or query parameter that
// fails its schema: "Invalid 'url_parameter.example': Failed regex check".
func errURLParam(kind, name, why string) *apiError {
	return paramErr(http.StatusBadRequest, "bad_request", "Bad Request",
		"Invalid '"+kind+"."+name+"': "+why, name)
}

func errConflict(long string) *apiError {
	return newErr(http.StatusConflict, "duplicate_record", "duplicate record", long)
}

func errTooManyRequests() *apiError {
	return newErr(http.StatusTooManyRequests, clerkapi.CodeTooManyRequests, "Too many requests",
		"Too many requests, retry later.")
}

func errInjected(status int) *apiError {
	code := "internal_clerk_error"
	msg := "Oops, an unexpected error occurred"
	switch {
	case status == http.StatusBadGateway:
		code, msg = "bad_gateway", "Bad gateway"
	case status == http.StatusServiceUnavailable:
		code, msg = "service_unavailable", "Service unavailable"
	case status == http.StatusGatewayTimeout:
		code, msg = "gateway_timeout", "Gateway timeout"
	case status == http.StatusTooManyRequests:
		code, msg = clerkapi.CodeTooManyRequests, "Too many requests"
	case status < 500:
		code, msg = "injected_error", http.StatusText(status)
	}
	return newErr(status, code, msg, "clerktest: injected fault with status "+strconv.Itoa(status)+".")
}

// writeJSON writes v as the JSON body with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"errors":[{"message":"internal error","long_message":"clerktest: encoding the answer failed","code":"internal_clerk_error"}]}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

// writeError writes e as Clerk's error body with a fresh trace ID.
func writeError(w http.ResponseWriter, e *apiError) {
	for k, v := range e.header {
		w.Header()[k] = v
	}
	writeJSON(w, e.status, clerkapi.ErrorBody{Errors: e.details, ClerkTraceID: newTraceID()})
}

// respond runs f with s.mu held and writes its answer after unlocking, so that
// no lock is held while writing to the network.
func (s *Server) respond(w http.ResponseWriter, status int, f func() (any, *apiError)) {
	s.mu.Lock()
	v, e := f()
	s.mu.Unlock()
	reply(w, status, v, e)
}

// reply writes e when it is set, and v with status otherwise.
func reply(w http.ResponseWriter, status int, v any, e *apiError) {
	if e != nil {
		writeError(w, e)
		return
	}
	writeJSON(w, status, v)
}
