package m2mgrpc_test

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/m2mauth/m2mauth/adapters/m2mgrpc"
	"github.com/m2mauth/m2mauth/verifier"
)

// The test service, written by hand (no protoc): Whoami answers the caller's
// subject, Watch streams it twice.
const (
	methodWhoami = "/m2mauth.test.Echo/Whoami"
	methodWatch  = "/m2mauth.test.Echo/Watch"
	methodHealth = "/grpc.health.v1.Health/Check"
)

// echoServer records the token its last handler found in the context.
type echoServer struct {
	mu     sync.Mutex
	calls  int
	tok    *verifier.Token
	hasTok bool
}

func (s *echoServer) seen(ctx context.Context) string {
	tok, ok := m2mgrpc.Token(ctx)
	s.mu.Lock()
	s.calls++
	s.tok, s.hasTok = tok, ok
	s.mu.Unlock()
	if !ok {
		return "anonymous"
	}
	return tok.Subject
}

// last returns what the last handler found, and how many ran.
func (s *echoServer) last() (*verifier.Token, bool, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tok, s.hasTok, s.calls
}

var echoDesc = grpc.ServiceDesc{
	ServiceName: "m2mauth.test.Echo",
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{{
		MethodName: "Whoami",
		Handler: func(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
			in := new(wrapperspb.StringValue)
			if err := dec(in); err != nil {
				return nil, err
			}
			h := func(ctx context.Context, _ any) (any, error) {
				return wrapperspb.String(srv.(*echoServer).seen(ctx)), nil
			}
			if interceptor == nil {
				return h(ctx, in)
			}
			return interceptor(ctx, in, &grpc.UnaryServerInfo{Server: srv, FullMethod: methodWhoami}, h)
		},
	}},
	Streams: []grpc.StreamDesc{{
		StreamName:    "Watch",
		ServerStreams: true,
		Handler: func(srv any, stream grpc.ServerStream) error {
			in := new(wrapperspb.StringValue)
			if err := stream.RecvMsg(in); err != nil {
				return err
			}
			who := srv.(*echoServer).seen(stream.Context())
			for range 2 {
				if err := stream.SendMsg(wrapperspb.String(who)); err != nil {
					return err
				}
			}
			return nil
		},
	}},
}

// serve starts a gRPC server on a loopback listener with in's interceptors,
// the echo service and the health service, and returns a client connection
// to it (without transport security, plus opts) and the echo service.
func serve(t testing.TB, in *m2mgrpc.Interceptor, opts ...grpc.DialOption) (*grpc.ClientConn, *echoServer) {
	t.Helper()
	addr, es := listen(t, in)
	return dial(t, addr, opts...), es
}

// listen starts a gRPC server on a loopback listener with in's interceptors
// (and sopts), the echo service and the health service, and returns its
// address and the echo service.
func listen(t testing.TB, in *m2mgrpc.Interceptor, sopts ...grpc.ServerOption) (string, *echoServer) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(append(in.ServerOptions(), sopts...)...)
	es := &echoServer{}
	srv.RegisterService(&echoDesc, es)
	healthpb.RegisterHealthServer(srv, health.NewServer())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Stop()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return ln.Addr().String(), es
}

// dial returns a client connection to target without transport security,
// with opts.
func dial(t testing.TB, target string, opts ...grpc.DialOption) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(target, append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// whoami calls Whoami on conn and returns the answer.
func whoami(ctx context.Context, conn *grpc.ClientConn) (string, error) {
	out := new(wrapperspb.StringValue)
	err := conn.Invoke(ctx, methodWhoami, wrapperspb.String("hi"), out)
	return out.GetValue(), err
}

// watch calls Watch on conn and returns what the stream sent.
func watch(ctx context.Context, conn *grpc.ClientConn) ([]string, error) {
	stream, err := conn.NewStream(ctx, &echoDesc.Streams[0], methodWatch)
	if err != nil {
		return nil, err
	}
	if err := stream.SendMsg(wrapperspb.String("hi")); err != nil {
		return nil, err
	}
	if err := stream.CloseSend(); err != nil {
		return nil, err
	}
	var got []string
	for {
		out := new(wrapperspb.StringValue)
		if err := stream.RecvMsg(out); err != nil {
			if errors.Is(err, io.EOF) {
				return got, nil
			}
			return got, err
		}
		got = append(got, out.GetValue())
	}
}
