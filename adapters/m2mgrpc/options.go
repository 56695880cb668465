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

// defaultSkipped are the methods an Interceptor lets through without a token
// unless WithoutDefaultSkips is given: those of health checking and server
// reflection, by their exact full names (the generated *_FullMethodName
// constants of grpc_health_v1, grpc_reflection_v1 and
// grpc_reflection_v1alpha).
var defaultSkipped = map[string]struct{}{
	"/grpc.health.v1.Health/Check":                                   {},
	"/grpc.health.v1.Health/List":                                    {},
	"/grpc.health.v1.Health/Watch":                                   {},
	"/grpc.reflection.v1.ServerReflection/ServerReflectionInfo":      {},
	"/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo": {},
}

type config struct {
	defaults bool                // skip defaultSkipped
	methods  map[string]struct{} // exact "/pkg.Service/Method"
	services map[string]struct{} // "/pkg.Service/": its methods
	source   func(ctx context.Context) string
}

func defaultConfig() config {
	return config{defaults: true, methods: map[string]struct{}{}, services: map[string]struct{}{}, source: peerIP}
}

// skipped reports whether fullMethod, the name the client sent, is one of
// the skipped methods. A whole service's entry covers its name followed by
// one method name, with no further '/': gRPC routes "/pkg.Service/../x" or
// "/pkg.Service/a/b" to a service named "pkg.Service/.." or "pkg.Service/a"
// (to an unknown-service handler, if the server has one), not to
// pkg.Service.
func (c *config) skipped(fullMethod string) bool {
	if _, ok := c.methods[fullMethod]; ok {
		return true
	}
	if _, ok := defaultSkipped[fullMethod]; ok && c.defaults {
		return true
	}
	i := strings.LastIndexByte(fullMethod, '/')
	if i < 0 || i == len(fullMethod)-1 {
		return false
	}
	_, ok := c.services[fullMethod[:i+1]]
	return ok
}

// WithSkipMethods lets the RPCs of the given methods through without a token
// and without a call to the verifier; the handler finds no token. A name is a
// full method, "/package.Service/Method", matched exactly, or a whole
// service, "/package.Service/", which matches that prefix followed by one
// method name and nothing else ("/package.Service/../x" and
// "/package.Service/a/b" are authenticated). Repeated uses add to the list.
//
// A skipped name is skipped whatever serves it: on a server with a
// grpc.UnknownServiceHandler (a proxy, say), a skipped method of a service
// the server does not register, or any method of a skipped whole service,
// reaches that handler without a token. Such a server should skip exact
// methods only, and use WithoutDefaultSkips unless it registers health and
// reflection itself.
//
// Default: the methods of the health service
// (/grpc.health.v1.Health/Check, /grpc.health.v1.Health/List and
// /grpc.health.v1.Health/Watch) and of server reflection
// (/grpc.reflection.v1.ServerReflection/ServerReflectionInfo and
// /grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo), by
// exact name.
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
				c.services[n] = struct{}{}
			} else {
				c.methods[n] = struct{}{}
			}
		}
		return nil
	}
}

// WithoutDefaultSkips authenticates the health and reflection methods too
// (see WithSkipMethods); methods given to WithSkipMethods stay skipped,
// whichever option comes first.
//
// Default: health and reflection are skipped.
func WithoutDefaultSkips() Option {
	return func(c *config) error {
		c.defaults = false
		return nil
	}
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
