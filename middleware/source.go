package middleware

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"strings"

	"github.com/m2mauth/m2mauth/verifier"
)

// A SourceFunc names who sent a request, for the Verifier's per-source budget
// of calls to Clerk (verifier.WithSourceBudget): requests with the same source
// share one budget. It must be cheap, must not trust what the client may
// forge, and should return a short key (an address or a prefix).
type SourceFunc func(r *http.Request) string

// RemoteIP is the default SourceFunc: the client's IP from r.RemoteAddr, the
// peer of the connection, which a client cannot forge. An IPv6 address counts
// by its /64 prefix (one host usually holds a whole /64), an IPv4-mapped one
// as IPv4. X-Forwarded-For and other headers are never read: behind a trusted
// proxy, use WithSourceFunc with a function that reads the header your proxy
// sets (and only that). A RemoteAddr that is not ip:port is used as it is, cut
// at 64 bytes.
//
// RemoteIP does not allocate for IPv4.
func RemoteIP(r *http.Request) string { return AddrSource(r.RemoteAddr) }

// AddrSource names the source of a peer address "ip:port" by RemoteIP's rules
// (an IPv4 address as it is, an IPv6 one by its /64, an IPv4-mapped one as
// IPv4; anything else as it is, cut at 64 bytes). Adapters for other
// transports (gRPC's peer address) use it, so that a source is named the same
// way whichever door a request came in by.
//
// AddrSource does not allocate for IPv4.
func AddrSource(ra string) string {
	i := strings.LastIndexByte(ra, ':')
	if i < 0 {
		return ra[:min(len(ra), 64)]
	}
	host := ra[:i]
	if len(host) > 2 && host[0] == '[' && host[len(host)-1] == ']' {
		addr, err := netip.ParseAddr(host[1 : len(host)-1])
		if err != nil {
			return ra[:min(len(ra), 64)]
		}
		return IPSource(addr)
	}
	if addr, err := netip.ParseAddr(host); err != nil || !addr.Is4() {
		return ra[:min(len(ra), 64)]
	}
	return host // a substring of RemoteAddr: no allocation
}

// WithSourceFunc sets how the source of a request is named for the
// Verifier's per-source budget (see SourceFunc). The Authenticator hands it to
// the Verifier with the token: to a *verifier.Verifier (or any SourceVerifier)
// as an argument, to another Verifier in the context (verifier.WithSource).
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

// IPSource names the source of a peer's IP address by RemoteIP's rules: an
// IPv4 (or IPv4-mapped) address as IPv4, an IPv6 address by its /64 prefix,
// without its zone. It is AddrSource for a transport that hands out the
// address parsed (*net.TCPAddr's AddrPort, say); it allocates the string.
func IPSource(addr netip.Addr) string {
	if addr = addr.Unmap(); addr.Is4() {
		return addr.String()
	}
	return netip.PrefixFrom(addr.WithZone(""), 64).Masked().String()
}

// A SourceVerifier is a Verifier that takes the request's source as an
// argument, sparing a context per request. *verifier.Verifier implements it.
type SourceVerifier interface {
	VerifyFrom(ctx context.Context, token, source string) (*verifier.Token, error)
}
