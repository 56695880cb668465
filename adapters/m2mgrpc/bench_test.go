package m2mgrpc_test

import (
	"context"
	"errors"
	"net"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"

	"github.com/m2mauth/m2mauth/adapters/internal/adaptertest"
	"github.com/m2mauth/m2mauth/adapters/m2mgrpc"
	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/middleware"
)

// BenchmarkUnary is the unary interceptor's cost on a token the verifier has
// cached (the real verifier on the emulator), and on the fixed test double,
// called as gRPC calls it: a context with incoming metadata and a TCP peer.
func BenchmarkUnary(b *testing.B) {
	w := newWorld(b)
	tok := w.mint(b, w.caller, clerkapi.FormatOpaque)
	for _, bc := range []struct {
		name  string
		a     *middleware.Authenticator
		token string
	}{
		{"verifier-cached", w.auth(b, w.clerk.SecretKey), tok},
		{"fixed", adaptertest.NewReceiver(b), adaptertest.GoodToken},
	} {
		b.Run(bc.name, func(b *testing.B) {
			in := newInterceptor(b, bc.a)
			ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", "Bearer "+bc.token))
			ctx = peer.NewContext(ctx, &peer.Peer{Addr: &net.TCPAddr{IP: net.IPv4(192, 0, 2, 7), Port: 51234}})
			info := &grpc.UnaryServerInfo{FullMethod: methodWhoami}
			errNoToken := errors.New("no token")
			handler := func(ctx context.Context, _ any) (any, error) {
				if _, ok := m2mgrpc.Token(ctx); !ok {
					return nil, errNoToken
				}
				return nil, nil
			}
			if _, err := in.Unary(ctx, nil, info, handler); err != nil { // warms the cache
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := in.Unary(ctx, nil, info, handler); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkLoopbackRPC is a whole unary RPC over loopback TCP with the
// interceptor (cached token) and with every method skipped, for scale.
func BenchmarkLoopbackRPC(b *testing.B) {
	w := newWorld(b)
	tok := w.mint(b, w.caller, clerkapi.FormatOpaque)
	a := w.auth(b, w.clerk.SecretKey)
	for _, bc := range []struct {
		name string
		opts []m2mgrpc.Option
	}{
		{"authenticated", nil},
		{"skipped", []m2mgrpc.Option{m2mgrpc.WithSkipMethods("/m2mauth.test.Echo/")}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			conn, _ := serve(b, newInterceptor(b, a, bc.opts...))
			ctx := withAuth(context.Background(), "Bearer "+tok)
			if _, err := whoami(ctx, conn); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := whoami(ctx, conn); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
