package m2mgrpc_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/m2mauth/m2mauth/adapters/internal/adaptertest"
	"github.com/m2mauth/m2mauth/adapters/m2mgrpc"
	"github.com/m2mauth/m2mauth/adapters/m2mhttp"
	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/middleware"
	"github.com/m2mauth/m2mauth/verifier"
)

// world is an emulator with a receiver (this service), a caller scoped to it
// and a stranger scoped elsewhere, on one fixed clock.
type world struct {
	clock                      *clerktest.Clock
	clerk                      *clerktest.Server
	receiver, caller, stranger *clerktest.Machine
}

func newWorld(t testing.TB) *world {
	t.Helper()
	w := &world{clock: clerktest.NewClock(time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC))}
	w.clerk = clerktest.NewServer(clerktest.WithClock(w.clock.Now))
	t.Cleanup(w.clerk.Close)
	w.receiver = w.clerk.CreateMachine("receiver")
	w.caller = w.clerk.CreateMachine("caller", w.receiver.ID)
	w.stranger = w.clerk.CreateMachine("stranger", w.clerk.CreateMachine("elsewhere").ID)
	return w
}

// auth returns the receiver's Authenticator on a new verifier with key.
func (w *world) auth(t testing.TB, key string, opts ...verifier.Option) *middleware.Authenticator {
	t.Helper()
	v, err := verifier.New(key, append([]verifier.Option{verifier.WithBaseURL(w.clerk.URL), verifier.WithClock(w.clock.Now)}, opts...)...)
	if err != nil {
		t.Fatalf("verifier.New: %v", err)
	}
	t.Cleanup(func() { _ = v.Close() })
	a, err := middleware.New(v, middleware.WithAudience(w.receiver.ID))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (w *world) mint(t testing.TB, m *clerktest.Machine, format clerkapi.TokenFormat) string {
	t.Helper()
	tok, err := w.clerk.CreateToken(m.ID, clerkapi.CreateParams{TokenFormat: format})
	if err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	return tok.Token
}

// verdict is what a caller learns: the HTTP status (a gRPC code mapped back)
// and the delay to retry after, in seconds.
type verdict struct {
	Status int
	Retry  string
}

// A door sends requests with the given Authorization values (one request
// each, "" for none) through an adapter on a, and returns the last verdict.
type door func(t *testing.T, a *middleware.Authenticator, auths []string) verdict

func grpcDoor(t *testing.T, a *middleware.Authenticator, auths []string) verdict {
	conn, _ := serve(t, newInterceptor(t, a))
	var v verdict
	for _, h := range auths {
		ctx := t.Context()
		if h != "" {
			ctx = withAuth(ctx, h)
		}
		_, err := whoami(ctx, conn)
		st := status.Convert(err)
		v = verdict{}
		for s, c := range codeFor {
			if c == st.Code() {
				v.Status = s
			}
		}
		if d, ok := retryDelay(st); ok {
			v.Retry = strconv.Itoa(int(d / time.Second))
		}
	}
	return v
}

func httpDoor(t *testing.T, a *middleware.Authenticator, auths []string) verdict {
	srv := httptest.NewServer(m2mhttp.Middleware(a)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
	t.Cleanup(srv.Close)
	var v verdict
	for _, h := range auths {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL, nil)
		if err != nil {
			t.Fatal(err)
		}
		if h != "" {
			req.Header.Set("Authorization", h)
		}
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = res.Body.Close()
		v = verdict{res.StatusCode, res.Header.Get("Retry-After")}
	}
	return v
}

// TestSameVerdictsAsHTTP: through the real verifier and the emulator, the
// interceptor and the net/http adapter on the same kind of Authenticator
// (each its own verifier, so that neither warms the other's cache) answer
// every scenario alike.
func TestSameVerdictsAsHTTP(t *testing.T) {
	w := newWorld(t)
	bearer := func(tok string) []string { return []string{"Bearer " + tok} }
	for _, sc := range []struct {
		name string
		// prepare returns the Authenticator and the requests of one door.
		prepare func(t *testing.T) (*middleware.Authenticator, []string)
		want    verdict
	}{
		{"valid", func(t *testing.T) (*middleware.Authenticator, []string) {
			return w.auth(t, w.clerk.SecretKey), bearer(w.mint(t, w.caller, clerkapi.FormatOpaque))
		}, verdict{200, ""}},
		{"valid jwt", func(t *testing.T) (*middleware.Authenticator, []string) {
			return w.auth(t, w.clerk.SecretKey), bearer(w.mint(t, w.caller, clerkapi.FormatJWT))
		}, verdict{200, ""}},
		{"valid, machine key", func(t *testing.T) (*middleware.Authenticator, []string) {
			return w.auth(t, w.receiver.SecretKey), bearer(w.mint(t, w.caller, clerkapi.FormatOpaque))
		}, verdict{200, ""}},
		{"missing", func(t *testing.T) (*middleware.Authenticator, []string) {
			return w.auth(t, w.clerk.SecretKey), []string{""}
		}, verdict{401, ""}},
		{"invalid", func(t *testing.T) (*middleware.Authenticator, []string) {
			return w.auth(t, w.clerk.SecretKey), bearer("mt_" + strings.Repeat("x", 32))
		}, verdict{401, ""}},
		{"out of scope", func(t *testing.T) (*middleware.Authenticator, []string) {
			return w.auth(t, w.clerk.SecretKey), bearer(w.mint(t, w.stranger, clerkapi.FormatOpaque))
		}, verdict{403, ""}},
		{"clerk down", func(t *testing.T) (*middleware.Authenticator, []string) {
			tok := w.mint(t, w.caller, clerkapi.FormatOpaque)
			w.clerk.InjectOn(clerktest.EndpointVerify, clerktest.FailNext(1<<20, http.StatusServiceUnavailable))
			t.Cleanup(w.clerk.ClearFaults)
			return w.auth(t, w.clerk.SecretKey), bearer(tok)
		}, verdict{503, "2"}},
		{"clerk 429", func(t *testing.T) (*middleware.Authenticator, []string) {
			tok := w.mint(t, w.caller, clerkapi.FormatOpaque)
			w.clerk.InjectOn(clerktest.EndpointVerify, clerktest.RateLimited(7*time.Second))
			t.Cleanup(w.clerk.ClearFaults)
			return w.auth(t, w.clerk.SecretKey), bearer(tok)
		}, verdict{503, "7"}},
		{"source over budget", func(t *testing.T) (*middleware.Authenticator, []string) {
			// A burst of one miss, refilled at one every 10 s on a clock that
			// does not move: the second new token is over budget.
			a := w.auth(t, w.clerk.SecretKey, verifier.WithLimits(verifier.Limits{SourceRate: 0.1, SourceBurst: 1}))
			return a, []string{"Bearer mt_" + strings.Repeat("j", 32), "Bearer " + w.mint(t, w.caller, clerkapi.FormatOpaque)}
		}, verdict{429, "10"}},
		{"misconfigured key", func(t *testing.T) (*middleware.Authenticator, []string) {
			quiet := verifier.WithLogger(slog.New(slog.DiscardHandler))
			return w.auth(t, "sk_test_"+"notTheInstanceKeyAtAllxxxxxxxxxxxxxxxx", quiet), bearer(w.mint(t, w.caller, clerkapi.FormatOpaque))
		}, verdict{500, ""}},
	} {
		t.Run(sc.name, func(t *testing.T) {
			got := map[string]verdict{}
			for name, d := range map[string]door{"grpc": grpcDoor, "http": httpDoor} {
				t.Run(name, func(t *testing.T) {
					a, auths := sc.prepare(t)
					got[name] = d(t, a, auths)
					if got[name] != sc.want {
						t.Errorf("got %+v, want %+v", got[name], sc.want)
					}
				})
			}
			if got["grpc"] != got["http"] {
				t.Errorf("gRPC answered %+v, HTTP %+v: want the same", got["grpc"], got["http"])
			}
		})
	}
}

// TestPeerSource: the source given with the token is the peer's IP by
// default, and what WithSourceFunc names otherwise; the Authenticator's
// success hook sees it.
func TestPeerSource(t *testing.T) {
	sources := make(chan string, 1)
	a := adaptertest.New(t, middleware.WithAudience(adaptertest.Audience),
		middleware.WithOnSuccess(func(_ context.Context, s middleware.Success) { sources <- s.Source }))
	fromHeader := m2mgrpc.WithSourceFunc(func(ctx context.Context) string {
		v := metadata.ValueFromIncomingContext(ctx, "x-client")
		if len(v) != 1 {
			return ""
		}
		return v[0]
	})
	for _, tc := range []struct {
		name string
		opts []m2mgrpc.Option
		want string
	}{
		{"peer", nil, "127.0.0.1"},
		{"custom", []m2mgrpc.Option{fromHeader}, "proxy-said"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, _ := serve(t, newInterceptor(t, a, tc.opts...))
			ctx := metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+adaptertest.GoodToken, "x-client", "proxy-said")
			if _, err := whoami(ctx, conn); err != nil {
				t.Fatal(err)
			}
			if got := <-sources; got != tc.want {
				t.Errorf("got source %q, want %q", got, tc.want)
			}
		})
	}
}

// TestKindsSameAsHTTP: every kind of credential through the interceptor and
// the net/http adapter alike (each its own verifier), on a route of its kind
// and on one of another: valid, revoked, expired, unknown, wrong kind,
// missing scope; the table of issue 18 for gRPC, with the Clerk calls of
// both doors together.
func TestKindsSameAsHTTP(t *testing.T) {
	w := newWorld(t)
	app := w.clerk.CreateOAuthApplication("agent")
	const user = "user_2xhFjEI5X2qWRvtV13BzSj8H6Dk"
	bearer := func(tok string) []string { return []string{"Bearer " + tok} }
	route := func(t *testing.T, accept verifier.Kind, scope string) *middleware.Authenticator {
		v, err := verifier.New(w.clerk.SecretKey, verifier.WithBaseURL(w.clerk.URL), verifier.WithClock(w.clock.Now))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = v.Close() })
		opts := []middleware.Option{middleware.WithAccept(accept)}
		if accept == verifier.KindM2M {
			opts = append(opts, middleware.WithAudience(w.receiver.ID))
		} else {
			opts = append(opts, middleware.WithRequiredScopes(scope))
		}
		a, err := middleware.New(v, opts...)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	key := func(t *testing.T, revoked bool, ttl time.Duration, scopes ...string) string {
		k, err := w.clerk.CreateAPIKey(clerktest.APIKeyParams{Name: "export", Subject: user, Scopes: scopes, TTL: ttl})
		if err != nil {
			t.Fatal(err)
		}
		if revoked {
			if err := w.clerk.RevokeAPIKey(k.ID, "leaked"); err != nil {
				t.Fatal(err)
			}
		}
		return k.Secret
	}
	oauth := func(t *testing.T, format clerkapi.TokenFormat, ttl time.Duration, scopes ...string) string {
		tok, err := w.clerk.CreateOAuthAccessToken(clerktest.OAuthAccessTokenParams{UserID: user, ClientID: app.ClientID, Scopes: scopes, Format: format, TTL: ttl})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	var table []string
	for _, sc := range []struct {
		kind, name string
		prepare    func(t *testing.T) (verifier.Kind, string, string) // the route's kind and scope, the token
		advance    time.Duration
		want       int
		verifyAt   clerktest.Endpoint
	}{
		{"api_key", "valid", func(t *testing.T) (verifier.Kind, string, string) {
			return verifier.KindAPIKey, "read", key(t, false, 0, "read")
		}, 0, 200, clerktest.EndpointAPIKeyVerify},
		{"api_key", "revoked", func(t *testing.T) (verifier.Kind, string, string) {
			return verifier.KindAPIKey, "read", key(t, true, 0, "read")
		}, 0, 401, clerktest.EndpointAPIKeyVerify},
		{"api_key", "expired", func(t *testing.T) (verifier.Kind, string, string) {
			return verifier.KindAPIKey, "read", key(t, false, time.Minute, "read")
		}, 2 * time.Minute, 401, clerktest.EndpointAPIKeyVerify},
		{"api_key", "unknown", func(*testing.T) (verifier.Kind, string, string) {
			return verifier.KindAPIKey, "read", "ak_" + strings.Repeat("u", 40)
		}, 0, 401, clerktest.EndpointAPIKeyVerify},
		{"api_key", "wrong kind", func(t *testing.T) (verifier.Kind, string, string) {
			return verifier.KindM2M, "", key(t, false, 0, "read")
		}, 0, 401, clerktest.EndpointAPIKeyVerify},
		{"api_key", "missing scope", func(t *testing.T) (verifier.Kind, string, string) {
			return verifier.KindAPIKey, "write", key(t, false, 0, "read")
		}, 0, 403, clerktest.EndpointAPIKeyVerify},
		{"oauth_token", "valid (opaque)", func(t *testing.T) (verifier.Kind, string, string) {
			return verifier.KindOAuth, "mcp", oauth(t, clerkapi.FormatOpaque, 0, "mcp")
		}, 0, 200, clerktest.EndpointOAuthVerify},
		{"oauth_token", "valid (JWT)", func(t *testing.T) (verifier.Kind, string, string) {
			return verifier.KindOAuth, "mcp", oauth(t, clerkapi.FormatJWT, 0, "mcp")
		}, 0, 200, clerktest.EndpointOAuthVerify},
		{"oauth_token", "expired (JWT)", func(t *testing.T) (verifier.Kind, string, string) {
			return verifier.KindOAuth, "mcp", oauth(t, clerkapi.FormatJWT, time.Minute, "mcp")
		}, 2 * time.Minute, 401, clerktest.EndpointOAuthVerify},
		{"oauth_token", "wrong kind", func(t *testing.T) (verifier.Kind, string, string) {
			return verifier.KindAPIKey, "read", oauth(t, clerkapi.FormatOpaque, 0, "read")
		}, 0, 401, clerktest.EndpointOAuthVerify},
		{"oauth_token", "missing scope", func(t *testing.T) (verifier.Kind, string, string) {
			return verifier.KindOAuth, "mcp", oauth(t, clerkapi.FormatOpaque, 0, "read")
		}, 0, 403, clerktest.EndpointOAuthVerify},
		{"m2m_token", "on an OAuth route", func(t *testing.T) (verifier.Kind, string, string) {
			return verifier.KindOAuth, "mcp", w.mint(t, w.caller, clerkapi.FormatOpaque)
		}, 0, 401, clerktest.EndpointVerify},
	} {
		t.Run(sc.kind+"/"+sc.name, func(t *testing.T) {
			kind, scope, tok := sc.prepare(t)
			w.clock.Advance(sc.advance)
			before := w.clerk.Calls(sc.verifyAt)
			got := map[string]verdict{}
			for name, d := range map[string]door{"grpc": grpcDoor, "http": httpDoor} {
				got[name] = d(t, route(t, kind, scope), bearer(tok))
				if got[name].Status != sc.want {
					t.Errorf("%s: got %+v, want %d", name, got[name], sc.want)
				}
			}
			if got["grpc"] != got["http"] {
				t.Errorf("gRPC answered %+v, HTTP %+v: want the same", got["grpc"], got["http"])
			}
			table = append(table, fmt.Sprintf("| %s | %s | %s | %d (%s) | %d |", sc.kind, sc.name, kind, sc.want,
				codeFor[sc.want], w.clerk.Calls(sc.verifyAt)-before))
		})
	}
	t.Logf("gRPC and net/http, one verifier each:\n| kind | case | route accepts | status (gRPC code) | verify calls, both doors |\n| --- | --- | --- | --- | --- |\n%s",
		strings.Join(table, "\n"))
}
