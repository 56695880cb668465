package m2mgrpc_test

import (
	"context"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionv1 "google.golang.org/grpc/reflection/grpc_reflection_v1"
	reflectionv1alpha "google.golang.org/grpc/reflection/grpc_reflection_v1alpha"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/m2mauth/m2mauth/adapters/internal/adaptertest"
	"github.com/m2mauth/m2mauth/adapters/m2mgrpc"
)

// reachedUnknown is the code of the test servers' unknown-service handler,
// which nothing else here returns: an RPC that gets it went past the
// interceptors.
const reachedUnknown = codes.DataLoss

// unknownService is a grpc.UnknownServiceHandler, as a proxy installs one:
// it serves any method name the server does not register.
func unknownService(any, grpc.ServerStream) error {
	return status.Error(reachedUnknown, "reached the unknown-service handler")
}

// TestSkipsAreExactNames is the attacker's test of the skip list, on a real
// server with the echo and health services and an unknown-service handler:
// only the exact names of the skipped methods pass without a token; a name
// that merely starts like one ("/grpc.health.v1.Health/../x", an unknown
// method of the health service, an extra '/') is routed by gRPC to the
// unknown-service handler and must be authenticated. A whole service given
// to WithSkipMethods covers one method name after it, nothing more.
func TestSkipsAreExactNames(t *testing.T) {
	a := adaptertest.NewReceiver(t)
	const ok = codes.OK
	const refused = codes.Unauthenticated
	type rpc struct {
		method string
		want   codes.Code // without a token
	}
	for _, set := range []struct {
		name string
		opts []m2mgrpc.Option
		rpcs []rpc
	}{
		{"default skips", nil, []rpc{
			{healthpb.Health_Check_FullMethodName, ok},
			{healthpb.Health_List_FullMethodName, ok},
			{"/grpc.health.v1.Health/../x", refused},
			{"/grpc.health.v1.Health/../m2mauth.test.Echo/Whoami", refused},
			{"/grpc.health.v1.Health/Nope", refused}, // known service, unknown method: the unknown-service handler's
			{"/grpc.health.v1.Health//Check", refused},
			{"/grpc.health.v1.Health/Check/x", refused},
			{"/grpc.reflection.v1.ServerReflection/../x", refused},
			{"/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo/x", refused},
			{"/evil.Proxy/Do", refused},
		}},
		{"a whole service", []m2mgrpc.Option{m2mgrpc.WithSkipMethods("/m2mauth.test.Echo/")}, []rpc{
			{methodWhoami, ok},
			{"/m2mauth.test.Echo/Nope", reachedUnknown}, // one method name of the skipped service: skipped, as documented
			{"/m2mauth.test.Echo/../x", refused},
			{"/m2mauth.test.Echo/../grpc.health.v1.Health/Nope", refused},
			{"/m2mauth.test.Echo//Whoami", refused},
			{"/m2mauth.test.Echo/Whoami/x", refused},
			{"/m2mauth.test.EchoX/Whoami", refused},
		}},
		{"one method", []m2mgrpc.Option{m2mgrpc.WithSkipMethods(methodWhoami), m2mgrpc.WithoutDefaultSkips()}, []rpc{
			{methodWhoami, ok},
			{methodWhoami + "/", refused},
			{methodWhoami + "/../Whoami", refused},
			{"/m2mauth.test.Echo/Nope", refused},
			{healthpb.Health_Check_FullMethodName, refused},
		}},
	} {
		t.Run(set.name, func(t *testing.T) {
			addr, _ := listen(t, newInterceptor(t, a, set.opts...), grpc.UnknownServiceHandler(unknownService))
			conn := dial(t, addr)
			// The harness: with a valid token, an unknown name reaches the
			// unknown-service handler.
			err := conn.Invoke(withAuth(t.Context(), "Bearer "+adaptertest.GoodToken), "/evil.Proxy/Do",
				wrapperspb.String("hi"), new(wrapperspb.StringValue))
			if status.Code(err) != reachedUnknown {
				t.Fatalf("with a token, /evil.Proxy/Do: got %v, want %v from the unknown-service handler", err, reachedUnknown)
			}
			for _, rpc := range set.rpcs {
				t.Run(rpc.method, func(t *testing.T) {
					// An empty message: a HealthCheckRequest for the server as a whole.
					err := conn.Invoke(t.Context(), rpc.method, new(wrapperspb.StringValue), new(wrapperspb.StringValue))
					if got := status.Code(err); got != rpc.want {
						t.Errorf("without a token: got %v (%v), want %v", got, err, rpc.want)
					}
				})
			}
		})
	}
}

// TestDefaultSkipsAreTheGeneratedNames: the methods skipped by default are
// exactly those of the health and reflection services as grpc-go generates
// them (streaming ones included, which TestSkipsAreExactNames does not
// call), and WithoutDefaultSkips authenticates each of them.
func TestDefaultSkipsAreTheGeneratedNames(t *testing.T) {
	a := adaptertest.NewReceiver(t)
	def := newInterceptor(t, a)
	without := newInterceptor(t, a, m2mgrpc.WithoutDefaultSkips())
	for _, method := range []string{
		healthpb.Health_Check_FullMethodName,
		healthpb.Health_List_FullMethodName,
		healthpb.Health_Watch_FullMethodName,
		reflectionv1.ServerReflection_ServerReflectionInfo_FullMethodName,
		reflectionv1alpha.ServerReflection_ServerReflectionInfo_FullMethodName,
	} {
		t.Run(method, func(t *testing.T) {
			if _, err := def.Authenticate(context.Background(), method); err != nil {
				t.Errorf("by default: got %v, want skipped", err)
			}
			if _, err := without.Authenticate(context.Background(), method); status.Code(err) != codes.Unauthenticated {
				t.Errorf("WithoutDefaultSkips: got %v, want Unauthenticated", err)
			}
		})
	}
}
