package clerktest

import (
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"slices"
	"strings"
)

// Limits on what one registration or authorization request may carry.
const (
	maxURILength    = 2048 // a redirect URI, resource, client_uri or logo_uri
	maxRedirectURIs = 100  // redirect_uris of one client
	maxResources    = 16   // resource parameters of one request
	maxScopeLength  = 1024 // a scope parameter (Clerk's registration maxLength)
)

// parseScope splits an RFC 6749 §3.3 scope parameter (scope-tokens separated
// by single spaces) and drops repeated tokens. It reports false for a
// malformed one.
func parseScope(scope string) ([]string, bool) {
	if len(scope) > maxScopeLength {
		return nil, false
	}
	var out []string
	for _, tok := range strings.Split(scope, " ") {
		if !isScopeToken(tok) {
			return nil, false
		}
		if !slices.Contains(out, tok) {
			out = append(out, tok)
		}
	}
	return out, true
}

// isSubset reports whether every element of sub is in set.
func isSubset(sub, set []string) bool {
	for _, v := range sub {
		if !slices.Contains(set, v) {
			return false
		}
	}
	return true
}

// checkURI says why u is not an absolute URI without a fragment, at most
// maxURILength bytes of printable ASCII without space, '"' or '\' (the
// characters that would break a scope-like list or a quoted header value), or
// returns "" when it is one.
func checkURI(u string) string {
	if len(u) > maxURILength {
		return "is longer than 2048 bytes"
	}
	if !isScopeToken(u) {
		return "must be printable ASCII without spaces, '\"' or '\\'"
	}
	p, err := url.Parse(u)
	switch {
	case err != nil || !p.IsAbs():
		return "must be an absolute URI"
	case strings.Contains(u, "#"):
		return "must not have a fragment"
	}
	return ""
}

// checkRedirectURI says why u cannot be registered as a redirect URI (RFC
// 6749 §3.1.2): checkURI's rules, a scheme that neither runs nor reads
// content (javascript:, data:, vbscript: and file: are refused; a
// private-use scheme such as com.example.app: is taken), and a host for http
// and https. It returns "" when u can be one.
func checkRedirectURI(u string) string {
	if why := checkURI(u); why != "" {
		return why
	}
	p, _ := url.Parse(u)
	switch strings.ToLower(p.Scheme) {
	case "javascript", "data", "vbscript", "file":
		return "must not use the " + strings.ToLower(p.Scheme) + ": scheme"
	case "http", "https":
		if p.Host == "" {
			return "must have a host"
		}
	}
	return ""
}

// checkWebURI says why u is not an http or https URL (client_uri,
// logo_uri), or returns "".
func checkWebURI(u string) string {
	if why := checkURI(u); why != "" {
		return why
	}
	p, _ := url.Parse(u)
	if s := strings.ToLower(p.Scheme); (s != "http" && s != "https") || p.Host == "" {
		return "must be an http or https URL"
	}
	return ""
}

// isPKCEString reports whether s is an RFC 7636 code_verifier or
// code_challenge: 43 to 128 characters of [A-Za-z0-9-._~].
func isPKCEString(s string) bool {
	if len(s) < 43 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("-._~", c) >= 0) {
			return false
		}
	}
	return true
}

// pkceS256 is the S256 code_challenge of verifier (RFC 7636 §4.2).
func pkceS256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
