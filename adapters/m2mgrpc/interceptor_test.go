package m2mgrpc_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/m2mauth/m2mauth/adapters/internal/adaptertest"
	"github.com/m2mauth/m2mauth/adapters/m2mgrpc"
	"github.com/m2mauth/m2mauth/internal/wire"
	"github.com/m2mauth/m2mauth/middleware"
	"github.com/m2mauth/m2mauth/verifier"
)

// codeFor is the gRPC code of each HTTP status of the taxonomy.
var codeFor = map[int]codes.Code{
	200: codes.OK, 401: codes.Unauthenticated, 403: codes.PermissionDenied,
	429: codes.ResourceExhausted, 503: codes.Unavailable, 500: codes.Internal,
}

// retryDelay returns the RetryInfo delay in st's details, and whether there
// was one.
func retryDelay(st *status.Status) (time.Duration, bool) {
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			return ri.GetRetryDelay().AsDuration(), true
		}
	}
	return 0, false
}

func newInterceptor(t testing.TB, a *middleware.Authenticator, opts ...m2mgrpc.Option) *m2mgrpc.Interceptor {
	t.Helper()
	in, err := m2mgrpc.New(a, opts...)
	if err != nil {
		t.Fatalf("m2mgrpc.New: %v", err)
	}
	return in
}

func withAuth(ctx context.Context, auth ...string) context.Context {
	for _, v := range auth {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", v)
	}
	return ctx
}

// TestCases answers the table every adapter answers (adaptertest.Cases) over
// a real gRPC server: the same verdicts as HTTP, as gRPC codes; the public
// path is the health service, skipped by default.
func TestCases(t *testing.T) {
	for _, c := range adaptertest.Cases(t) {
		t.Run(c.Name, func(t *testing.T) {
			conn, es := serve(t, newInterceptor(t, c.A))
			ctx := t.Context()
			if c.Auth != "" {
				ctx = withAuth(ctx, c.Auth)
			}
			var err error
			if c.Path == "/healthz" {
				_, err = healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
			} else {
				_, err = whoami(ctx, conn)
			}
			st := status.Convert(err)
			if want := codeFor[c.WantStatus]; st.Code() != want {
				t.Fatalf("got %v (%q), want %v (HTTP %d)", st.Code(), st.Message(), want, c.WantStatus)
			}
			if _, desc, ok := strings.Cut(c.WantWWW, `error_description="`); ok {
				desc, scope, _ := strings.Cut(strings.TrimSuffix(desc, `"`), `", scope="`)
				want := ": " + desc
				if scope != "" {
					want += ` (scope="` + scope + `")`
				}
				if !strings.HasSuffix(st.Message(), want) {
					t.Errorf("got message %q, want it to end with %q", st.Message(), want)
				}
			}
			d, ok := retryDelay(st)
			if got, want := ok, c.WantRetry != ""; got != want {
				t.Errorf("got RetryInfo %v, want one: %v", got, want)
			} else if ok && d.String() != c.WantRetry+"s" {
				t.Errorf("got retry delay %v, want %ss", d, c.WantRetry)
			}
			if strings.Contains(st.Message(), adaptertest.GoodToken) {
				t.Errorf("got message %q: it holds the token", st.Message())
			}
			tok, hasTok, calls := es.last()
			if c.Path == "/healthz" {
				return
			}
			if wantCalls := map[bool]int{true: 1, false: 0}[c.WantStatus == 200]; calls != wantCalls {
				t.Errorf("got %d handler calls, want %d", calls, wantCalls)
			}
			if calls > 0 {
				c.CheckToken(t, tok, hasTok)
			}
		})
	}
}

// TestStream: the stream interceptor refuses a stream without a token and
// gives the handler's stream a context with the token.
func TestStream(t *testing.T) {
	conn, es := serve(t, newInterceptor(t, adaptertest.NewReceiver(t)))
	if _, err := watch(t.Context(), conn); status.Code(err) != codes.Unauthenticated {
		t.Errorf("without a token: got %v, want Unauthenticated", err)
	}
	if _, _, calls := es.last(); calls != 0 {
		t.Errorf("got %d handler calls for a refused stream, want 0", calls)
	}
	got, err := watch(withAuth(t.Context(), "Bearer "+adaptertest.GoodToken), conn)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{adaptertest.Token.Subject, adaptertest.Token.Subject}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("got %q, want %q", got, want)
	}
	tok, ok, _ := es.last()
	if !ok || tok != adaptertest.Token {
		t.Errorf("got token (%v, %v) in the stream's context, want adaptertest.Token", tok, ok)
	}
}

// TestSkips: health is skipped by default and authenticated with
// WithoutDefaultSkips; WithSkipMethods skips a method or a whole service,
// whose handler finds no token.
func TestSkips(t *testing.T) {
	a := adaptertest.NewReceiver(t)
	for _, tc := range []struct {
		name           string
		opts           []m2mgrpc.Option
		health, whoami codes.Code
		watch          codes.Code
	}{
		{"default", nil, codes.OK, codes.Unauthenticated, codes.Unauthenticated},
		{"without default skips", []m2mgrpc.Option{m2mgrpc.WithoutDefaultSkips()}, codes.Unauthenticated, codes.Unauthenticated, codes.Unauthenticated},
		{"one method", []m2mgrpc.Option{m2mgrpc.WithSkipMethods(methodWhoami)}, codes.OK, codes.OK, codes.Unauthenticated},
		{"a whole service, health kept", []m2mgrpc.Option{m2mgrpc.WithSkipMethods("/m2mauth.test.Echo/"), m2mgrpc.WithoutDefaultSkips()},
			codes.Unauthenticated, codes.OK, codes.OK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, es := serve(t, newInterceptor(t, a, tc.opts...))
			_, err := healthpb.NewHealthClient(conn).Check(t.Context(), &healthpb.HealthCheckRequest{})
			if status.Code(err) != tc.health {
				t.Errorf("health: got %v, want %v", err, tc.health)
			}
			who, err := whoami(t.Context(), conn)
			if status.Code(err) != tc.whoami {
				t.Errorf("Whoami: got %v, want %v", err, tc.whoami)
			}
			if err == nil && who != "anonymous" {
				t.Errorf("skipped Whoami: got %q, want anonymous (no token)", who)
			}
			if _, err := watch(t.Context(), conn); status.Code(err) != tc.watch {
				t.Errorf("Watch: got %v, want %v", err, tc.watch)
			}
			if _, hasTok, _ := es.last(); hasTok {
				t.Error("a skipped method's handler found a token")
			}
		})
	}
}

// TestOptional: with middleware.WithOptional an RPC without a token passes
// with no token; a bad one is still refused.
func TestOptional(t *testing.T) {
	conn, _ := serve(t, newInterceptor(t, adaptertest.New(t, middleware.WithAudience(adaptertest.Audience), middleware.WithOptional())))
	if who, err := whoami(t.Context(), conn); err != nil || who != "anonymous" {
		t.Errorf("no token: got (%q, %v), want anonymous", who, err)
	}
	if _, err := whoami(withAuth(t.Context(), "Bearer a b"), conn); status.Code(err) != codes.Unauthenticated {
		t.Errorf("malformed: got %v, want Unauthenticated", err)
	}
}

// TestMetadataRules: the token rules of middleware.BearerToken, on metadata.
func TestMetadataRules(t *testing.T) {
	conn, _ := serve(t, newInterceptor(t, adaptertest.NewReceiver(t)))
	good := "Bearer " + adaptertest.GoodToken
	for _, tc := range []struct {
		name string
		auth []string
		want codes.Code
		msg  string
	}{
		{"bearer", []string{good}, codes.OK, ""},
		{"scheme in lower case", []string{"bearer " + adaptertest.GoodToken}, codes.OK, ""},
		{"two values", []string{good, good}, codes.Unauthenticated, "missing_token: more than one Authorization header"},
		{"basic", []string{"Basic eDp5"}, codes.Unauthenticated, "missing_token: no bearer token"},
		{"not token68", []string{"Bearer a,b"}, codes.Unauthenticated, "missing_token: malformed bearer token"},
		{"too large", []string{"Bearer " + strings.Repeat("a", wire.MaxAuthorizationLen)}, codes.Unauthenticated, "missing_token: Authorization header too large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := whoami(withAuth(t.Context(), tc.auth...), conn)
			st := status.Convert(err)
			if st.Code() != tc.want || (tc.msg != "" && st.Message() != tc.msg) {
				t.Errorf("got %v %q, want %v %q", st.Code(), st.Message(), tc.want, tc.msg)
			}
		})
	}
}

// TestClientGone: an RPC whose context ends while its token is being
// verified is Canceled or DeadlineExceeded, not Unavailable.
func TestClientGone(t *testing.T) {
	waiting := middleware.VerifierFunc(func(ctx context.Context, _, _ string) (*verifier.Token, error) {
		<-ctx.Done()
		return nil, &verifier.UnavailableError{Err: ctx.Err()}
	})
	a, err := middleware.New(waiting, middleware.WithAnyAudience())
	if err != nil {
		t.Fatal(err)
	}
	in := newInterceptor(t, a)
	md := metadata.Pairs("authorization", "Bearer "+adaptertest.GoodToken)
	canceled, cancel := context.WithCancel(metadata.NewIncomingContext(context.Background(), md))
	cancel()
	expired, cancel2 := context.WithDeadline(metadata.NewIncomingContext(context.Background(), md), time.Unix(0, 0))
	defer cancel2()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		want codes.Code
	}{
		{"canceled", canceled, codes.Canceled},
		{"deadline", expired, codes.DeadlineExceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			called := false
			_, err := in.Unary(tc.ctx, nil, &grpc.UnaryServerInfo{FullMethod: methodWhoami}, func(context.Context, any) (any, error) {
				called = true
				return nil, nil
			})
			if status.Code(err) != tc.want || called {
				t.Errorf("got %v (handler called: %v), want %v", err, called, tc.want)
			}
		})
	}
}

// TestStatus: every error of the taxonomy has its code.
func TestStatus(t *testing.T) {
	a := adaptertest.NewReceiver(t)
	for _, tc := range []struct {
		name  string
		err   error
		want  codes.Code
		retry time.Duration
	}{
		{"missing", middleware.ErrMissingToken, codes.Unauthenticated, 0},
		{"invalid", &verifier.InvalidTokenError{Reason: "token expired"}, codes.Unauthenticated, 0},
		{"forbidden", middleware.Forbidden("no"), codes.PermissionDenied, 0},
		{"rate limited", &verifier.RateLimitedError{RetryAfter: 3 * time.Second}, codes.ResourceExhausted, 3 * time.Second},
		{"unavailable, clerk's delay", &verifier.UnavailableError{RetryAfter: 1500 * time.Millisecond}, codes.Unavailable, 2 * time.Second},
		{"unavailable, the default", &verifier.UnavailableError{Err: errors.New("503")}, codes.Unavailable, 2 * time.Second},
		{"misconfigured", verifier.ErrMisconfigured, codes.Internal, 0},
		{"unknown", errors.New("boom"), codes.Internal, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := m2mgrpc.Status(a, tc.err)
			d, _ := retryDelay(st)
			if st.Code() != tc.want || d != tc.retry {
				t.Errorf("got %v retry %v (%q), want %v retry %v", st.Code(), d, st.Message(), tc.want, tc.retry)
			}
			if strings.Contains(st.Message(), "boom") {
				t.Errorf("got message %q, want no internal error text", st.Message())
			}
		})
	}
}

func TestOptions(t *testing.T) {
	a := adaptertest.NewReceiver(t)
	for _, tc := range []struct {
		name string
		opts []m2mgrpc.Option
	}{
		{"nil option", []m2mgrpc.Option{nil}},
		{"no method", []m2mgrpc.Option{m2mgrpc.WithSkipMethods()}},
		{"no leading slash", []m2mgrpc.Option{m2mgrpc.WithSkipMethods("pkg.Svc/M")}},
		{"no service", []m2mgrpc.Option{m2mgrpc.WithSkipMethods("//M")}},
		{"no method separator", []m2mgrpc.Option{m2mgrpc.WithSkipMethods("/pkg.Svc")}},
		{"too many parts", []m2mgrpc.Option{m2mgrpc.WithSkipMethods("/pkg.Svc/M/x")}},
		{"nil source", []m2mgrpc.Option{m2mgrpc.WithSourceFunc(nil)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := m2mgrpc.New(a, tc.opts...); err == nil {
				t.Error("accepted")
			}
		})
	}
	if _, err := m2mgrpc.New(nil); err == nil {
		t.Error("New(nil) accepted")
	}
}
