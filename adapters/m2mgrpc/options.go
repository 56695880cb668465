package m2mgrpc

import (
	"context"
	"errors"
	"net"
	"strings"

	"google.golang.org/grpc/peer"

	"github.com/m2mauth/m2mauth/internal/source"
)

// An Option configures an Interceptor. Options are validated by New.
type Option func(*config) error

// defaultSkipped are the services an Interceptor lets through without a token
// unless WithoutDefaultSkips is given: health checking and server reflection.
var defaultSkipped = []string{
	"/grpc.health.v1.Health/",
	"/grpc.reflection.v1.ServerReflection/",
	"/grpc.reflection.v1alpha.ServerReflection/",
}

type config struct {
	methods  map[string]struct{} // exact "/pkg.Service/Method"
	services []string            // "/pkg.Service/" prefixes
	source   func(ctx context.Context) string
}

func defaultConfig() config {
	c := config{methods: map[string]struct{}{}, source: peerIP}
	c.services = append(c.services, defaultSkipped...)
	return c
}

func (c *config) skipped(fullMethod string) bool {
	if _, ok := c.methods[fullMethod]; ok {
		return true
	}
	for _, s := range c.services {
		if strings.HasPrefix(fullMethod, s) {
			return true
		}
	}
	return false
}

// WithSkipMethods lets the RPCs of the given methods through without a token
// and without a call to the verifier; the handler finds no token. A name is a
// full method, "/package.Service/Method", or a whole service,
// "/package.Service/". Repeated uses add to the list.
//
// Default: the health service (/grpc.health.v1.Health/) and server
// reflection (/grpc.reflection.v1.ServerReflection/ and
// /grpc.reflection.v1alpha.ServerReflection/).
func WithSkipMethods(names ...string) Option {
	return func(c *config) error {
		if len(names) == 0 {
			return errors.New("m2mgrpc: WithSkipMethods needs at least one method")
		}
		for _, n := range names {
			svc, method, ok := strings.Cut(strings.TrimPrefix(n, "/"), "/")
			if !strings.HasPrefix(n, "/") || !ok || svc == "" || strings.Contains(method, "/") {
				return errors.New(`m2mgrpc: WithSkipMethods: want "/package.Service/Method" or "/package.Service/", got ` + quote(n))
			}
			if method == "" {
				c.services = append(c.services, n)
			} else {
				c.methods[n] = struct{}{}
			}
		}
		return nil
	}
}

// WithoutDefaultSkips authenticates the health and reflection services too
// (see WithSkipMethods); methods given to WithSkipMethods stay skipped, whichever
// option comes first.
//
// Default: health and reflection are skipped.
func WithoutDefaultSkips() Option {
	return func(c *config) error {
		kept := c.services[:0]
		for _, s := range c.services {
			if !isDefault(s) {
				kept = append(kept, s)
			}
		}
		c.services = kept
		return nil
	}
}

func isDefault(s string) bool {
	for _, d := range defaultSkipped {
		if s == d {
			return true
		}
	}
	return false
}

// WithSourceFunc sets how the source of an RPC is named for the Verifier's
// per-source budget (see middleware.SourceFunc): behind a trusted proxy, a
// function that reads the metadata that proxy sets, and only that. It must
// be cheap and return a short key.
//
// Default: the connection's peer address (peer.FromContext), named by
// middleware.RemoteIP's rules (an IPv4 address as it is, an IPv6 address by
// its /64); metadata such as x-forwarded-for is never read, and an RPC
// without a peer has the source "".
func WithSourceFunc(f func(ctx context.Context) string) Option {
	return func(c *config) error {
		if f == nil {
			return errors.New("m2mgrpc: WithSourceFunc(nil)")
		}
		c.source = f
		return nil
	}
}

// peerIP is the default source of an RPC (see WithSourceFunc).
func peerIP(ctx context.Context) string {
	p, ok := peer.FromContext(ctx)
	if !ok || p.Addr == nil {
		return ""
	}
	if tcp, ok := p.Addr.(*net.TCPAddr); ok {
		if ip := tcp.AddrPort().Addr(); ip.IsValid() {
			return source.FromIP(ip)
		}
	}
	return source.FromAddr(p.Addr.String())
}

// quote quotes s for an error message, cut at 64 bytes.
func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return `"` + s + `"`
}
