package clerktest

import (
	"crypto/rsa"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
)

// Server is a running Clerk emulator. It is safe for concurrent use.
type Server struct {
	// URL is the base URL ending in /v1, e.g. http://127.0.0.1:41234/v1: pass it
	// to clerkapi.WithBaseURL or verifier.WithBaseURL.
	URL string
	// SecretKey is the instance's Clerk secret key (sk_test_…).
	SecretKey string
	// PublishableKey is the instance's publishable key: pk_test_ (pk_live_
	// with an sk_live_ secret key) and the unpadded base64 of the emulator's
	// host:port followed by "$", as Clerk encodes an instance's Frontend API
	// host. @clerk/backend's authenticateRequest needs one for every
	// acceptsToken but m2m_token and api_key; @clerk/shared refuses a host
	// without a dot, so an IPv6 or "localhost" listener gives a key it
	// rejects (NewServer listens on 127.0.0.1). The origin it encodes
	// (http:// + host:port for the loopback host) serves the OAuth
	// authorization server, GET /.well-known/oauth-authorization-server first.
	PublishableKey string

	now        func() time.Time
	instanceID string
	ts         *httptest.Server
	closing    chan struct{} // closed by Close: ends hanging and delayed requests
	closeOnce  sync.Once

	oauthUser   string               // who consents at GET /oauth/authorize
	oauthFormat clerkapi.TokenFormat // of the access tokens POST /oauth/token issues

	keyOnce sync.Once
	key     *rsa.PrivateKey // instance signing key, made on first use

	mux      *http.ServeMux // the routes; see ServeHTTP
	counters counters
	faults   faultSet

	mu sync.Mutex // guards st; never held while sleeping, hanging or writing
	st state
}

// NewServer starts an emulator on a loopback httptest listener. It panics if an
// option is invalid, as httptest.NewServer does when it cannot listen: it is
// meant for tests. Call Close when done.
func NewServer(opts ...Option) *Server {
	s, err := newServer(opts)
	if err != nil {
		panic(err)
	}
	s.ts = httptest.NewUnstartedServer(s)
	s.start()
	return s
}

// Start serves an emulator on l, e.g. a listener on a fixed address for the
// standalone clerk-emulator. The Server owns l from then on; Close closes it.
func Start(l net.Listener, opts ...Option) (*Server, error) {
	s, err := newServer(opts)
	if err != nil {
		l.Close()
		return nil, err
	}
	s.ts = httptest.NewUnstartedServer(s)
	s.ts.Listener.Close()
	s.ts.Listener = l
	s.start()
	return s, nil
}

// start sets URL and PublishableKey before the first request can arrive,
// then serves.
func (s *Server) start() {
	host := s.ts.Listener.Addr().String()
	s.URL = "http://" + host + "/v1"
	s.PublishableKey = publishableKey(s.SecretKey, host)
	s.ts.Start()
}

func newServer(opts []Option) (*Server, error) {
	c := config{now: time.Now, oauthUser: DefaultOAuthUserID, oauthFormat: clerkapi.FormatJWT}
	for _, o := range opts {
		if err := o(&c); err != nil {
			return nil, err
		}
	}
	if c.secretKey == "" {
		c.secretKey = newInstanceKey()
	}
	s := &Server{
		SecretKey:  c.secretKey,
		now:        c.now,
		instanceID: newInstanceID(),
		closing:    make(chan struct{}),
		counters:   newCounters(),

		oauthUser:   c.oauthUser,
		oauthFormat: c.oauthFormat,
	}
	s.mux = s.newMux()
	s.st.init()
	return s, nil
}

// Handler returns the emulator's HTTP handler, which serves paths under /v1 (and
// the M2M token, API key and OAuth verify endpoints also without it, as
// @clerk/backend calls them) and the OAuth authorization server at the origin.
// The Server itself implements http.Handler; this is the same value.
func (s *Server) Handler() http.Handler { return s }

// Close ends hanging and delayed requests, closes every connection and stops
// the server. It is safe to call more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.closing)
		s.ts.CloseClientConnections()
		s.ts.Close()
	})
}

// InstanceID returns the instance's ID (ins_…), the kid of its signing key.
func (s *Server) InstanceID() string { return s.instanceID }
