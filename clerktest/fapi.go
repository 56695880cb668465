package clerktest

import (
	"errors"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
)

// The Frontend API's OAuth authorization server: what a Clerk instance
// serves at its Frontend API origin (the host its publishable key encodes),
// and the emulator at its own origin, beside the Backend API under /v1.
// These endpoints take no Clerk key: clients authenticate with their
// client_id and client_secret where they have one.

// OAuth grant types, response types and client authentication methods the
// emulator serves (RFC 6749, RFC 7591).
const (
	grantAuthorizationCode = "authorization_code"
	grantRefreshToken      = "refresh_token"
	responseTypeCode       = "code"
	authMethodBasic        = "client_secret_basic"
	authMethodPost         = "client_secret_post"
	authMethodNone         = "none"
)

// oauthScopesSupported is the scopes_supported of the metadata: Clerk's
// own scopes (its Frontend API spec lists them for /oauth/authorize). The
// emulator grants other scope-tokens too, such as an MCP server's "mcp".
var oauthScopesSupported = []string{"openid", "profile", "email", "public_metadata", "private_metadata", "offline_access"}

// asMetadata is the RFC 8414 authorization server metadata document, with
// the members of Clerk's (its Frontend API spec's
// WellKnown.OAuth2AuthorizationServerMetadata, which requires all of them
// but registration_endpoint).
type asMetadata struct {
	Issuer                            string   `json:"issuer"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	RevocationEndpoint                string   `json:"revocation_endpoint"`
	JWKSURI                           string   `json:"jwks_uri"`
	RegistrationEndpoint              string   `json:"registration_endpoint"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	ScopesSupported                   []string `json:"scopes_supported"`
	SubjectTypesSupported             []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported"`
	ClaimsSupported                   []string `json:"claims_supported"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported"`
}

func (s *Server) handleOAuthMetadata(w http.ResponseWriter, _ *http.Request, _ caller) {
	origin := s.issuer()
	writeJSON(w, http.StatusOK, asMetadata{
		Issuer:                            origin,
		AuthorizationEndpoint:             origin + "/oauth/authorize",
		TokenEndpoint:                     origin + "/oauth/token",
		RevocationEndpoint:                origin + "/oauth/token/revoke",
		JWKSURI:                           origin + "/.well-known/jwks.json",
		RegistrationEndpoint:              origin + "/oauth/register",
		ResponseTypesSupported:            []string{responseTypeCode},
		GrantTypesSupported:               []string{grantAuthorizationCode, grantRefreshToken},
		TokenEndpointAuthMethodsSupported: []string{authMethodBasic, authMethodNone, authMethodPost},
		ScopesSupported:                   oauthScopesSupported,
		SubjectTypesSupported:             []string{"public"},
		IDTokenSigningAlgValuesSupported:  []string{"RS256"},
		ClaimsSupported:                   []string{"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "client_id", "scope"},
		CodeChallengeMethodsSupported:     []string{"S256"},
	})
}

// handleFrontendJWKS serves the instance's JWKS at the Frontend API, where
// anyone may read it (GET /v1/jwks needs the secret key).
func (s *Server) handleFrontendJWKS(w http.ResponseWriter, _ *http.Request, _ caller) {
	writeJSON(w, http.StatusOK, s.JWKS())
}

// oauthError is an error answer of the OAuth endpoints: RFC 6749 §5.2's (and
// RFC 7591 §3.2.2's, RFC 7009 §2.2.1's) JSON {"error", "error_description"}
// with a status, never cached.
type oauthError struct {
	status      int
	code        string
	description string
	header      http.Header // WWW-Authenticate on a 401
}

func (e *oauthError) Error() string { return "clerktest: " + e.code + ": " + e.description }

func oauthErr(status int, code, description string) *oauthError {
	return &oauthError{status: status, code: code, description: description}
}

func invalidRequest(description string) *oauthError {
	return oauthErr(http.StatusBadRequest, "invalid_request", description)
}

func invalidGrant(description string) *oauthError {
	return oauthErr(http.StatusBadRequest, "invalid_grant", description)
}

// invalidClient is the 401 of a failed client authentication, with the
// challenge RFC 6749 §5.2 asks for when the client used HTTP Basic (and RFC
// 9110 for every 401).
func invalidClient(description string) *oauthError {
	e := oauthErr(http.StatusUnauthorized, "invalid_client", description)
	e.header = http.Header{"Www-Authenticate": {`Basic realm="oauth"`}}
	return e
}

// writeOAuthJSON writes an answer of the OAuth endpoints: JSON that no cache
// may keep (RFC 6749 §5.1, RFC 7591 §3.2.1).
func writeOAuthJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, status, v)
}

func writeOAuthError(w http.ResponseWriter, e *oauthError) {
	for k, v := range e.header {
		w.Header()[k] = v
	}
	writeOAuthJSON(w, e.status, struct {
		Error       string `json:"error"`
		Description string `json:"error_description,omitempty"`
	}{e.code, e.description})
}

// readForm reads the application/x-www-form-urlencoded body of a token or
// revocation request (at most maxRequestBody bytes; the query string is not
// read). A parameter sent twice is an error (RFC 6749 §3.2), except those in
// repeatable (RFC 8707's resource).
func readForm(w http.ResponseWriter, r *http.Request, repeatable ...string) (url.Values, *oauthError) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, invalidRequest("The request body must be application/x-www-form-urlencoded.")
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, oauthErr(http.StatusRequestEntityTooLarge, "invalid_request",
				"The request body exceeds the limit of "+strconv.Itoa(maxRequestBody)+" bytes.")
		}
		return nil, invalidRequest("The request body could not be read.")
	}
	form, err := url.ParseQuery(string(data))
	if err != nil {
		return nil, invalidRequest("The request body is not valid application/x-www-form-urlencoded.")
	}
	if e := noRepeats(form, repeatable...); e != nil {
		return nil, e
	}
	return form, nil
}

// noRepeats refuses a parameter of vals given more than once, unless it is
// one of repeatable.
func noRepeats(vals url.Values, repeatable ...string) *oauthError {
	for _, k := range slices.Sorted(maps.Keys(vals)) {
		if len(vals[k]) > 1 && !slices.Contains(repeatable, k) {
			return invalidRequest("The parameter " + truncateName(k) + " is included more than once.")
		}
	}
	return nil
}
