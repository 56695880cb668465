// Package whoami is the gRPC service of the example: one method,
// m2mauth.example.Whoami/Whoami, that answers who called (the verified
// token's subject, ID, scopes and format, never the token itself), behind
// m2mgrpc's interceptors, next to the standard health service.
//
// The service is written by hand, without protoc: a grpc.ServiceDesc whose
// messages are protobuf's well-known types (google.protobuf.Empty in,
// google.protobuf.Struct out), which gRPC's default codec already knows. A
// copy of the example needs no code generator and no generated files; a real
// service would declare its messages in a .proto file instead, and its
// server would be wired the same way (NewServer).
//
// Everything here is safe for concurrent use.
package whoami

import (
	"context"
	"errors"
	"log/slog"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/m2mauth/m2mauth/adapters/m2mgrpc"
	"github.com/m2mauth/m2mauth/middleware"
)

// Method is the full name of the service's one method.
const Method = "/m2mauth.example.Whoami/Whoami"

// ServiceDesc describes the service to gRPC (what protoc would generate).
var ServiceDesc = grpc.ServiceDesc{
	ServiceName: "m2mauth.example.Whoami",
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{{
		MethodName: "Whoami",
		Handler: func(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
			in := new(emptypb.Empty)
			if err := dec(in); err != nil {
				return nil, err
			}
			if interceptor == nil {
				return whoami(ctx, in)
			}
			return interceptor(ctx, in, &grpc.UnaryServerInfo{Server: srv, FullMethod: Method}, whoami)
		},
	}},
	Metadata: "whoami.proto", // there is none: the messages are well-known types
}

// whoami answers the verified token's identity.
func whoami(ctx context.Context, _ any) (any, error) {
	tok, ok := m2mgrpc.Token(ctx)
	if !ok { // only without the interceptor in front: fail closed
		return nil, status.Error(codes.Internal, "not authenticated")
	}
	scopes := make([]any, len(tok.Scopes))
	for i, s := range tok.Scopes {
		scopes[i] = s
	}
	return structpb.NewStruct(map[string]any{
		"subject": tok.Subject, "token_id": tok.ID, "scopes": scopes, "format": string(tok.Format),
	})
}

// Call calls Whoami on cc and returns the answer.
func Call(ctx context.Context, cc grpc.ClientConnInterface) (*structpb.Struct, error) {
	out := new(structpb.Struct)
	if err := cc.Invoke(ctx, Method, &emptypb.Empty{}, out); err != nil {
		return nil, err
	}
	return out, nil
}

// NewServer returns a gRPC server with the Whoami service behind m2mgrpc's
// interceptors on auth, the health service (grpc.health.v1.Health, which
// server reflection (which they skip too: grpcurl can list the services),
// with opts after the interceptors.
func NewServer(auth *middleware.Authenticator, opts ...grpc.ServerOption) (*grpc.Server, error) {
	if auth == nil {
		return nil, errors.New("whoami: NewServer: nil Authenticator")
	}
	in, err := m2mgrpc.New(auth)
	if err != nil {
		return nil, err
	}
	srv := grpc.NewServer(append(in.ServerOptions(), opts...)...)
	srv.RegisterService(&ServiceDesc, nil)
	healthpb.RegisterHealthServer(srv, health.NewServer())
	reflection.Register(srv)
	return srv, nil
}

// Audit is a middleware.SuccessFunc that logs each authenticated RPC to l at
// Info: the method, the caller (subject), the token ID and the source. It
// never logs the token.
func Audit(l *slog.Logger) middleware.SuccessFunc {
	return func(ctx context.Context, s middleware.Success) {
		method, _ := grpc.Method(ctx)
		l.LogAttrs(ctx, slog.LevelInfo, "rpc authenticated", slog.String("method", method),
			slog.String("subject", s.Token.Subject), slog.String("token_id", s.Token.ID), slog.String("source", s.Source))
	}
}
