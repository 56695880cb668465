package middleware

import (
	"errors"
	"net/http"

	"github.com/m2mauth/m2mauth/internal/source"
)

// A SourceFunc names who sent a request, for the Verifier's per-source budget
// of calls to Clerk (verifier.Limits.SourceRate): requests with the same source
// share one budget. It must be cheap, must not trust what the client may
// forge, and should return a short key (an address or a prefix).
type SourceFunc func(r *http.Request) string

// RemoteIP is the default SourceFunc: the client's IP from r.RemoteAddr, the
// peer of the connection, which a client cannot forge. An IPv6 address counts
// by its /64 prefix (one host usually holds a whole /64), an IPv4-mapped one
// as IPv4. X-Forwarded-For and other headers are never read: behind a trusted
// proxy, use WithSourceFunc with a function that reads the header your proxy
// sets (and only that). A RemoteAddr that is not ip:port is used as it is, cut
// at 64 bytes. The gRPC adapter names a peer by the same rules.
//
// RemoteIP does not allocate for IPv4.
func RemoteIP(r *http.Request) string { return source.FromAddr(r.RemoteAddr) }

// WithSourceFunc sets how the source of a request is named for the
// Verifier's per-source budget (see SourceFunc). The Authenticator hands it to
// the Verifier with the token, as Verify's source argument.
//
// Default: RemoteIP.
func WithSourceFunc(f SourceFunc) Option {
	return func(c *config) error {
		if f == nil {
			return errors.New("middleware: WithSourceFunc(nil)")
		}
		c.source = f
		return nil
	}
}
