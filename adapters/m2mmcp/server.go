package m2mmcp

import (
	"errors"
	"strconv"
	"strings"

	"github.com/m2mauth/m2mauth/middleware"
	"github.com/m2mauth/m2mauth/verifier"
)

// A ResourceServer protects an MCP server's HTTP endpoint: Middleware in
// front of the SDK's handler, Metadata at the well-known URI. It is
// immutable after New and safe for concurrent use.
type ResourceServer struct {
	a *middleware.Authenticator

	metadataURL string
	metadata    []byte // the JSON document, computed once
	metadataLen string
	etag        string

	// What the refusals add to the Authenticator's challenge (a leading ", ").
	params401 string // resource_metadata, and scope when Config.Scopes is set
	params403 string // resource_metadata
}

// New returns the ResourceServer of cfg, which verifies tokens with v
// (usually a *verifier.Verifier on the Clerk secret key) through a
// middleware.Authenticator built with opts.
//
// The Authenticator accepts OAuth access tokens only (verifier.KindOAuth),
// unless opts hold a middleware.WithAccept, which replaces that: for
// example WithAccept(verifier.KindOAuth, verifier.KindM2M) to let machines
// call as well, with middleware.WithAudience (or WithAnyAudience) as any
// route accepting M2M tokens with a Clerk secret key needs. cfg.Scopes are
// required of every API key and OAuth token (middleware.WithRequiredScopes).
// The other options (WithLogger, WithOnSuccess, WithSourceFunc,
// WithAllowedSubjects, WithCheck, WithOptional, WithSkipper…) work as they
// do for any adapter, with two exceptions: the token must come in the
// Authorization header, where the SDK also looks for it (MCP has no other
// place for it), so WithExtractor must not move it elsewhere; and
// WithErrorHandler is refused, since MCP clients need the refusals
// Middleware writes.
//
// New returns an error for an invalid cfg, and whatever middleware.New
// returns for v and opts.
func New(v middleware.Verifier, cfg Config, opts ...middleware.Option) (*ResourceServer, error) {
	if v == nil {
		return nil, errors.New("m2mmcp: New: nil Verifier")
	}
	r, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	mopts := make([]middleware.Option, 0, len(opts)+2)
	mopts = append(mopts, middleware.WithAccept(verifier.KindOAuth))
	mopts = append(mopts, opts...)
	if len(r.scopes) > 0 {
		mopts = append(mopts, middleware.WithRequiredScopes(r.scopes...))
	}
	a, err := middleware.New(audienceVerifier{v: v, resource: r.resource}, mopts...)
	if err != nil {
		return nil, err
	}
	if a.ErrorHandler() != nil {
		return nil, errors.New("m2mmcp: New: middleware.WithErrorHandler is not supported: MCP clients need the refusals the ResourceServer writes")
	}
	s := &ResourceServer{a: a, metadataURL: r.metadataURL}
	if s.metadata, s.etag, err = metadataDoc(r); err != nil {
		return nil, err
	}
	s.metadataLen = strconv.Itoa(len(s.metadata))
	s.params403 = `, resource_metadata="` + r.metadataURL + `"`
	s.params401 = s.params403
	if len(r.scopes) > 0 {
		s.params401 += `, scope="` + strings.Join(r.scopes, " ") + `"`
	}
	return s, nil
}

// MetadataURL is the absolute URL of the Protected Resource Metadata
// document, the resource_metadata of every 401 and 403: the resource's
// well-known URI (RFC 9728 §3.1), e.g.
// https://mcp.example.com/.well-known/oauth-protected-resource/mcp for
// https://mcp.example.com/mcp. Serve Metadata at its path.
func (s *ResourceServer) MetadataURL() string { return s.metadataURL }
