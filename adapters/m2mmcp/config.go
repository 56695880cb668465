package m2mmcp

import (
	"errors"
	"net/url"
	"strings"
)

// Config describes the MCP server as an OAuth 2.0 protected resource: the
// facts its metadata document (RFC 9728) publishes and its refusals point
// to.
type Config struct {
	// Resource is the absolute URL of the MCP endpoint as clients call it,
	// e.g. "https://mcp.example.com/mcp": the metadata's resource, which MCP
	// clients compare with the URL they called, and the audience (RFC 8707)
	// that OAuth JWT access tokens must name when they name one. It is https,
	// or http on a loopback host (localhost, 127.0.0.0/8, [::1]) as MCP
	// clients accept it, without user information, query or fragment.
	// Required.
	Resource string

	// PublishableKey is the Clerk instance's publishable key (pk_test_… or
	// pk_live_…), from which the authorization server is derived as Clerk's
	// SDKs derive the instance's Frontend API: the key's base64 part decodes
	// to the host followed by "$"; the authorization server is https://host,
	// or http://host for a loopback host (the emulator's). One of
	// PublishableKey and AuthorizationServer is required.
	PublishableKey string

	// AuthorizationServer is the issuer URL of the authorization server
	// (RFC 8414), e.g. "https://clerk.example.com"; when set it is used
	// instead of the one derived from PublishableKey (a proxy of the Frontend
	// API, say). It follows Resource's rules on scheme and form.
	AuthorizationServer string

	// Scopes are the OAuth scopes every request needs (each an RFC 6749
	// scope-token, such as "mcp"): an API key or OAuth token without one of
	// them is refused 403 insufficient_scope naming them; 401 challenges name
	// them too, so that a client asks for them, and the metadata lists them
	// as scopes_supported. M2M tokens are not concerned (their scopes are
	// machine IDs). Give them here rather than with
	// middleware.WithRequiredScopes, which would require them without
	// publishing them.
	//
	// Default: none.
	Scopes []string
}

// resolved is a validated Config.
type resolved struct {
	resource    string // as given
	metadataURL string // RFC 9728 §3.1: the well-known URI of resource
	authServer  string
	scopes      []string
}

// wellKnown is RFC 9728's well-known URI suffix.
const wellKnown = "/.well-known/oauth-protected-resource"

func (c Config) resolve() (resolved, error) {
	var r resolved
	u, err := checkURL("Resource", c.Resource)
	if err != nil {
		return r, err
	}
	r.resource = c.Resource
	r.metadataURL = metadataURL(u)
	switch {
	case c.AuthorizationServer != "":
		if _, err := checkURL("AuthorizationServer", c.AuthorizationServer); err != nil {
			return r, err
		}
		r.authServer = c.AuthorizationServer
	case c.PublishableKey != "":
		if r.authServer, err = frontendAPI(c.PublishableKey); err != nil {
			return r, err
		}
	default:
		return r, errors.New("m2mmcp: Config needs the Clerk instance's PublishableKey (pk_…) or an AuthorizationServer URL")
	}
	r.scopes = append([]string(nil), c.Scopes...) // validated by middleware.WithRequiredScopes
	return r, nil
}

// metadataURL is the well-known URI of the resource u (RFC 9728 §3.1): the
// suffix goes between the host and the path, and a path of "/" alone is
// dropped.
func metadataURL(u *url.URL) string {
	path := u.EscapedPath()
	if path == "/" {
		path = ""
	}
	return u.Scheme + "://" + u.Host + wellKnown + path
}

// checkURL validates a URL that a client will be pointed to: absolute, https
// (or http on a loopback host), no user information, query or fragment, and
// printable ASCII without '"' or '\', so that it fits a quoted-string of the
// challenge as it is.
func checkURL(field, s string) (*url.URL, error) {
	bad := func(why string) error {
		return errors.New("m2mmcp: Config." + field + " " + why)
	}
	if s == "" {
		return nil, bad("is required")
	}
	if len(s) > 2048 {
		return nil, bad("is longer than 2048 bytes")
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c > '~' || c == '"' || c == '\\' {
			return nil, bad("must be printable ASCII without spaces, '\"' or '\\' (percent-encode the rest)")
		}
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, bad("is not a URL")
	}
	switch {
	case u.Host == "" || u.Opaque != "":
		return nil, bad("must be an absolute URL (https://host/path)")
	case u.User != nil:
		return nil, bad("must not carry user information")
	case u.RawQuery != "" || u.ForceQuery || strings.Contains(s, "#"):
		return nil, bad("must have no query and no fragment")
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
	default:
		return nil, bad("must be https (http only on a loopback host: localhost, 127.0.0.0/8, [::1])")
	}
	return u, nil
}
