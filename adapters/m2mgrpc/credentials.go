package m2mgrpc

import (
	"context"
	"errors"
	"net/netip"
	"net/url"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"github.com/m2mauth/m2mauth/m2mclient"
)

// PerRPCCredentials puts a token of an m2mclient.TokenSource on every RPC of
// a connection as "authorization: Bearer <token>":
//
//	creds, err := m2mgrpc.NewPerRPCCredentials(ts)
//	conn, err := grpc.NewClient(target,
//		grpc.WithTransportCredentials(credentials.NewTLS(nil)),
//		grpc.WithPerRPCCredentials(creds))
//
// The TokenSource hands out its cached token and creates its successor ahead
// of expiry (one create call however many RPCs need it). A failure to get a
// token fails the RPC with codes.Unavailable (its message free of the key and
// of any token), or Canceled / DeadlineExceeded when the RPC's context ended.
type PerRPCCredentials struct {
	ts       *m2mclient.TokenSource
	insecure bool
}

var _ credentials.PerRPCCredentials = (*PerRPCCredentials)(nil)

// A CredentialsOption configures a PerRPCCredentials.
type CredentialsOption func(*PerRPCCredentials) error

// AllowInsecureLoopback lets the token go over a connection without transport
// security, to a loopback address only (127.0.0.0/8, ::1, "localhost"): for
// tests, and a sidecar on the same host. An RPC to any other host over such a
// connection fails with codes.Unauthenticated before the token is fetched.
//
// Default: transport security is required (RequireTransportSecurity reports
// true, and gRPC refuses to send the token over a connection without it).
func AllowInsecureLoopback() CredentialsOption {
	return func(c *PerRPCCredentials) error {
		c.insecure = true
		return nil
	}
}

// NewPerRPCCredentials returns credentials that take their tokens from ts.
func NewPerRPCCredentials(ts *m2mclient.TokenSource, opts ...CredentialsOption) (*PerRPCCredentials, error) {
	if ts == nil {
		return nil, errors.New("m2mgrpc: NewPerRPCCredentials: nil TokenSource")
	}
	c := &PerRPCCredentials{ts: ts}
	for _, opt := range opts {
		if opt == nil {
			return nil, errors.New("m2mgrpc: NewPerRPCCredentials: nil option")
		}
		if err := opt(c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// errNotLoopback refuses to send a token in clear text to another host.
var errNotLoopback = errors.New("m2mgrpc: refusing to send an M2M token without transport security to a host that is not loopback")

// GetRequestMetadata returns the authorization metadata of one RPC. uri is
// the RPC's audience, "https://host/package.Service", as gRPC gives it.
func (c *PerRPCCredentials) GetRequestMetadata(ctx context.Context, uri ...string) (map[string]string, error) {
	if c.insecure {
		if ri, ok := credentials.RequestInfoFromContext(ctx); !ok ||
			credentials.CheckSecurityLevel(ri.AuthInfo, credentials.PrivacyAndIntegrity) != nil {
			if len(uri) == 0 || !loopback(uri[0]) {
				return nil, status.Error(codes.Unauthenticated, errNotLoopback.Error())
			}
		}
	}
	tok, err := c.ts.Token(ctx)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return nil, status.FromContextError(cerr).Err()
		}
		return nil, status.Error(codes.Unavailable, "m2mgrpc: no M2M token: "+err.Error())
	}
	return map[string]string{"authorization": "Bearer " + tok.Value}, nil
}

// RequireTransportSecurity reports whether the token may go only over a
// connection with transport security: true unless AllowInsecureLoopback.
func (c *PerRPCCredentials) RequireTransportSecurity() bool { return !c.insecure }

// loopback reports whether the host of uri is a loopback address or
// "localhost".
func loopback(uri string) bool {
	u, err := url.Parse(uri)
	if err != nil {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	addr, err := netip.ParseAddr(host)
	return err == nil && addr.Unmap().IsLoopback()
}
