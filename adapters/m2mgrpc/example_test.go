package m2mgrpc_test

import (
	"context"
	"fmt"
	"net"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/m2mauth/m2mauth/adapters/m2mgrpc"
	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/middleware"
	"github.com/m2mauth/m2mauth/verifier"
)

// A gRPC server whose RPCs need a token scoped to it, called without a token
// and with one.
func Example() {
	clerk := clerktest.NewServer() // a Clerk emulator; in production, verifier.New(os.Getenv("CLERK_SECRET_KEY"))
	defer clerk.Close()
	receiver := clerk.CreateMachine("receiver")
	caller := clerk.CreateMachine("caller", receiver.ID)

	v, err := verifier.New(clerk.SecretKey, verifier.WithBaseURL(clerk.URL))
	if err != nil {
		panic(err)
	}
	defer v.Close()
	auth, err := middleware.New(v, middleware.WithAudience(receiver.ID))
	if err != nil {
		panic(err)
	}
	in, err := m2mgrpc.New(auth)
	if err != nil {
		panic(err)
	}
	srv := grpc.NewServer(in.ServerOptions()...)
	srv.RegisterService(&echoDesc, &echoServer{}) // a hand-written service: Whoami answers Token(ctx).Subject
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Stop()

	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		panic(err)
	}
	defer conn.Close()

	_, err = whoami(context.Background(), conn)
	fmt.Println(status.Code(err), status.Convert(err).Message())

	tok, err := clerk.CreateToken(caller.ID, clerkapi.CreateParams{}) // a caller uses m2mgrpc.NewPerRPCCredentials
	if err != nil {
		panic(err)
	}
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+tok.Token)
	who, err := whoami(ctx, conn)
	fmt.Println(who == caller.ID, err)
	// Output:
	// Unauthenticated missing_token: no bearer token
	// true <nil>
}
