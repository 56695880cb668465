package m2mgrpc

import (
	"context"
	"errors"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/m2mauth/m2mauth/middleware"
	"github.com/m2mauth/m2mauth/verifier"
)

// An Interceptor authenticates the RPCs of a gRPC server with an
// Authenticator. Build one with New; its Unary and Stream methods are
// grpc.UnaryServerInterceptor and grpc.StreamServerInterceptor.
type Interceptor struct {
	a   *middleware.Authenticator
	cfg config
}

// New returns an Interceptor that authenticates every RPC with a, except the
// skipped methods (see WithSkipMethods).
func New(a *middleware.Authenticator, opts ...Option) (*Interceptor, error) {
	if a == nil {
		return nil, errors.New("m2mgrpc: New: nil Authenticator")
	}
	cfg := defaultConfig()
	for _, opt := range opts {
		if opt == nil {
			return nil, errors.New("m2mgrpc: New: nil Option")
		}
		if err := opt(&cfg); err != nil {
			return nil, err
		}
	}
	return &Interceptor{a: a, cfg: cfg}, nil
}

// ServerOptions returns the options that install both interceptors on a
// server, after any installed before: grpc.ChainUnaryInterceptor(i.Unary) and
// grpc.ChainStreamInterceptor(i.Stream).
func (i *Interceptor) ServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{grpc.ChainUnaryInterceptor(i.Unary), grpc.ChainStreamInterceptor(i.Stream)}
}

// Unary is a grpc.UnaryServerInterceptor: it calls handler with a context
// carrying the verified token, or returns the refusal's status.
func (i *Interceptor) Unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	ctx, err := i.Authenticate(ctx, info.FullMethod)
	if err != nil {
		return nil, err
	}
	return handler(ctx, req)
}

// Stream is a grpc.StreamServerInterceptor: it calls handler with a stream
// whose Context carries the verified token, or returns the refusal's status.
func (i *Interceptor) Stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	ctx := ss.Context()
	authed, err := i.Authenticate(ctx, info.FullMethod)
	if err != nil {
		return err
	}
	if authed != ctx {
		ss = &serverStream{ServerStream: ss, ctx: authed}
	}
	return handler(srv, ss)
}

// Authenticate is what both interceptors do, for a custom interceptor: it
// returns ctx, with the verified token in it (middleware.NewContext) when the
// RPC carried one, or the refusal as a gRPC status error (see Status).
// fullMethod is "/package.Service/Method"; a skipped one returns ctx as it is.
func (i *Interceptor) Authenticate(ctx context.Context, fullMethod string) (context.Context, error) {
	if i.cfg.skipped(fullMethod) {
		return ctx, nil
	}
	tok, err := i.a.AuthenticateBearer(ctx, metadata.ValueFromIncomingContext(ctx, "authorization"), i.cfg.source(ctx))
	if err != nil {
		return ctx, Status(i.a, err).Err()
	}
	if tok == nil { // WithOptional and no token
		return ctx, nil
	}
	return middleware.NewContext(ctx, tok), nil
}

// Token returns the verified token of an authenticated RPC, from the
// handler's context (middleware.TokenFromContext).
func Token(ctx context.Context) (*verifier.Token, bool) {
	return middleware.TokenFromContext(ctx)
}

// serverStream is a grpc.ServerStream whose Context carries the token.
type serverStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *serverStream) Context() context.Context { return s.ctx }
