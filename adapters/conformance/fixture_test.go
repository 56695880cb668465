package conformance_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/labstack/echo/v4"
	echo5 "github.com/labstack/echo/v5"

	"github.com/m2mauth/m2mauth/adapters/internal/adaptertest"
	"github.com/m2mauth/m2mauth/adapters/m2mecho"
	"github.com/m2mauth/m2mauth/adapters/m2mecho5"
	"github.com/m2mauth/m2mauth/adapters/m2mgin"
	"github.com/m2mauth/m2mauth/adapters/m2mhttp"
	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/middleware"
	"github.com/m2mauth/m2mauth/verifier"
)

func init() { gin.SetMode(gin.ReleaseMode) }

// The adapters, each building the same service: GET /api/whoami answers
// the subject of the token it finds in the request's context.
var adapters = []struct {
	name    string
	handler func(a *middleware.Authenticator) http.Handler
}{
	{"net/http", func(a *middleware.Authenticator) http.Handler {
		mux := http.NewServeMux()
		mux.HandleFunc("GET /api/whoami", whoami)
		return m2mhttp.Middleware(a)(mux)
	}},
	{"echo", func(a *middleware.Authenticator) http.Handler {
		e := echo.New()
		e.GET("/api/whoami", func(c echo.Context) error {
			whoami(c.Response(), c.Request())
			return nil
		}, m2mecho.Middleware(a))
		return e
	}},
	{"echo5", func(a *middleware.Authenticator) http.Handler {
		e := echo5.New()
		e.GET("/api/whoami", func(c *echo5.Context) error {
			whoami(c.Response(), c.Request())
			return nil
		}, m2mecho5.Middleware(a))
		return e
	}},
	{"gin", func(a *middleware.Authenticator) http.Handler {
		e := gin.New()
		e.GET("/api/whoami", m2mgin.Middleware(a), func(c *gin.Context) { whoami(c.Writer, c.Request) })
		return e
	}},
}

// whoami answers {"subject": …} from the token in r's context, or 500 if
// there is none (which would mean an adapter let a request through unverified).
func whoami(w http.ResponseWriter, r *http.Request) {
	tok, ok := middleware.TokenFromContext(r.Context())
	if !ok {
		http.Error(w, `{"error":"no token in context"}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"subject": tok.Subject})
}

// fixture is an emulator with four machines, a verifier on it and
// authenticators: "main" (instance key, audience = receiver, subjects =
// caller and stranger), "badkey" (a key the emulator does not know) and
// "fixed" (on adaptertest.Fixed, whose "mt_flood" is a source over its
// budget: a 429 without tuning the real verifier's admission).
type fixture struct {
	clock    *clerktest.Clock
	clerk    *clerktest.Server
	receiver *clerktest.Machine // this service
	caller   *clerktest.Machine // scoped to receiver, allowed
	intruder *clerktest.Machine // scoped to receiver, not an allowed subject
	stranger *clerktest.Machine // allowed subject, but scoped elsewhere only
	v        *verifier.Verifier
	auths    map[string]*middleware.Authenticator
}

func newFixture(tb testing.TB) *fixture {
	tb.Helper()
	f := &fixture{clock: clerktest.NewClock(time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC))}
	f.clerk = clerktest.NewServer(clerktest.WithClock(f.clock.Now))
	tb.Cleanup(f.clerk.Close)
	f.receiver = f.clerk.CreateMachine("receiver")
	elsewhere := f.clerk.CreateMachine("elsewhere")
	f.caller = f.clerk.CreateMachine("caller", f.receiver.ID)
	f.intruder = f.clerk.CreateMachine("intruder", f.receiver.ID)
	f.stranger = f.clerk.CreateMachine("stranger", elsewhere.ID)

	newVerifier := func(key string) *verifier.Verifier {
		v, err := verifier.New(key, verifier.WithBaseURL(f.clerk.URL), verifier.WithClock(f.clock.Now),
			verifier.WithLimits(verifier.Limits{Timeout: 5 * time.Second}))
		if err != nil {
			tb.Fatalf("verifier.New: %v", err)
		}
		tb.Cleanup(func() { _ = v.Close() })
		return v
	}
	f.v = newVerifier(f.clerk.SecretKey)
	bad := newVerifier("sk_test_" + "notTheInstanceKeyAtAllxxxxxxxxxxxxxxxx")
	f.auths = map[string]*middleware.Authenticator{}
	for name, build := range map[string]func() (*middleware.Authenticator, error){
		"main": func() (*middleware.Authenticator, error) {
			return middleware.New(f.v, middleware.WithAudience(f.receiver.ID),
				middleware.WithAllowedSubjects(f.caller.ID, f.stranger.ID))
		},
		"badkey": func() (*middleware.Authenticator, error) {
			return middleware.New(bad, middleware.WithAudience(f.receiver.ID))
		},
		"fixed": func() (*middleware.Authenticator, error) {
			return middleware.New(adaptertest.Fixed, middleware.WithAudience(adaptertest.Audience))
		},
	} {
		a, err := build()
		if err != nil {
			tb.Fatalf("middleware.New(%s): %v", name, err)
		}
		f.auths[name] = a
	}
	return f
}

// mint creates a token for m, valid for ttl (0: the machine's default).
func (f *fixture) mint(tb testing.TB, m *clerktest.Machine, ttl time.Duration) *clerkapi.M2MToken {
	tb.Helper()
	p := clerkapi.CreateParams{}
	if ttl > 0 {
		p.SecondsUntilExpiration = clerkapi.Int64(int64(ttl / time.Second))
	}
	t, err := f.clerk.CreateToken(m.ID, p)
	if err != nil {
		tb.Fatalf("CreateToken: %v", err)
	}
	return t
}

// servers starts one real HTTP server per adapter and authenticator.
func (f *fixture) servers(tb testing.TB) map[string]map[string]*httptest.Server {
	out := map[string]map[string]*httptest.Server{}
	for _, ad := range adapters {
		out[ad.name] = map[string]*httptest.Server{}
		for name, a := range f.auths {
			s := httptest.NewServer(ad.handler(a))
			tb.Cleanup(s.Close)
			out[ad.name][name] = s
		}
	}
	return out
}
