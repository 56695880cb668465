package verifier

import (
	"log/slog"
	"net/http"
	"net/url"

	"github.com/m2mauth/m2mauth/clerkapi"
)

// The endpoints named in the Error lines.
const (
	endpointVerify = "POST /m2m_tokens/verify"
	endpointJWKS   = "GET /jwks"
)

// misconfiguredAnswer returns the ErrMisconfigured error for an answer that
// shows the Verifier's configuration is wrong: Clerk's 401/403 to our key, or
// an answer that is not Clerk's at all. Each of the two is logged once per
// Verifier at Error level (see errorLog), without the key.
func (v *Verifier) misconfiguredAnswer(ae *clerkapi.APIError, endpoint string) *MisconfiguredError {
	if (ae.StatusCode == http.StatusUnauthorized || ae.StatusCode == http.StatusForbidden) && ae.IsClerkError() {
		if v.keyRefusedLogged.CompareAndSwap(false, true) {
			v.errorLog().Error("m2mauth verifier: Clerk refused this service's secret key; every request will fail with 500 until the key is fixed",
				"endpoint", endpoint, "status", ae.StatusCode, "clerk_code", firstCode(ae), "key_kind", v.keyKind, "trace_id", ae.TraceID)
		}
		return &MisconfiguredError{Reason: ReasonKeyRefused, Err: ae}
	}
	if v.notClerkLogged.CompareAndSwap(false, true) {
		v.errorLog().Error("m2mauth verifier: the base URL does not answer like Clerk's Backend API; every request will fail with 500 until WithBaseURL is fixed",
			"endpoint", endpoint, "status", ae.StatusCode, "base_url", redactedURL(v.client.BaseURL()))
	}
	return &MisconfiguredError{Reason: ReasonNotClerk, Err: ae}
}

// errorLog returns the logger of the Error lines about a misconfiguration:
// WithLogger's, else slog.Default() as it is when the line is written, so
// that a program that sets its default logger after New is heard.
func (v *Verifier) errorLog() *slog.Logger {
	if v.cfg.logger != nil {
		return v.cfg.logger
	}
	return slog.Default()
}

// redactedURL returns u with any password replaced by "xxxxx".
func redactedURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(unparseable)"
	}
	return p.Redacted()
}

// firstCode returns the first non-empty code of Clerk's errors.
func firstCode(ae *clerkapi.APIError) string {
	for _, d := range ae.Errors {
		if d.Code != "" {
			return d.Code
		}
	}
	return ""
}
