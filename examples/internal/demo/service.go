package demo

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/middleware"
	"github.com/m2mauth/m2mauth/verifier"
)

// Service is what an example's routes need.
type Service struct {
	Config Config
	// Verifier checks tokens against Clerk (or the emulator).
	Verifier *verifier.Verifier
	// API guards /api/…: a valid token scoped to this service (when an
	// audience is known); /healthz is skipped.
	API *middleware.Authenticator
	// Reports guards /api/reports: API's policy plus the claim role=reporter.
	Reports *middleware.Authenticator
	// Emulator is the embedded Clerk emulator, nil with a real Clerk.
	Emulator *clerktest.Server
	// DemoToken is a ready token minted on the emulator ("" with a real Clerk).
	DemoToken string
}

// Public reports whether a request needs no token (GET /healthz).
func Public(r *http.Request) bool { return r.URL.Path == "/healthz" }

// Setup builds the Service from cfg. With no secret key it starts the
// embedded emulator, creates a receiver machine (this service) and a caller
// machine scoped to it, mints a one-hour token with {"role":"reporter"} and
// prints it to out.
func Setup(cfg Config, out io.Writer) (*Service, error) {
	s := &Service{Config: cfg}
	var opts []verifier.Option
	if cfg.SecretKey == "" {
		s.Emulator = clerktest.NewServer()
		receiver := s.Emulator.CreateMachine("reports-service")
		caller := s.Emulator.CreateMachine("billing-worker", receiver.ID)
		tok, err := s.Emulator.CreateToken(caller.ID, clerkapi.CreateParams{
			Claims:                 map[string]string{"role": ReportRole},
			SecondsUntilExpiration: clerkapi.Int64(3600),
		})
		if err != nil {
			s.Emulator.Close()
			return nil, fmt.Errorf("demo: minting a token on the emulator: %w", err)
		}
		s.DemoToken = tok.Token
		s.Config.SecretKey = s.Emulator.SecretKey
		s.Config.APIURL = s.Emulator.URL
		s.Config.Audience = receiver.ID
		fmt.Fprintf(out, "No CLERK_SECRET_KEY: using the embedded Clerk emulator at %s\n", s.Emulator.URL)
		fmt.Fprintf(out, "  this service (receiver machine): %s\n", receiver.ID)
		fmt.Fprintf(out, "  caller machine:                  %s\n", caller.ID)
		fmt.Fprintf(out, "  token for the caller (role=reporter, 1h): %s\n", tok.Token)
	}
	if s.Config.APIURL != "" {
		opts = append(opts, verifier.WithBaseURL(s.Config.APIURL))
	}
	v, err := verifier.New(s.Config.SecretKey, opts...)
	if err != nil {
		s.closeEmulator()
		return nil, fmt.Errorf("demo: %w", err)
	}
	s.Verifier = v
	apiOpts := []middleware.Option{middleware.WithSkipper(Public), middleware.WithRealm("m2mauth-demo")}
	if s.Config.Audience != "" {
		apiOpts = append(apiOpts, middleware.WithAudience(s.Config.Audience))
	}
	if s.API, err = middleware.New(v, apiOpts...); err == nil {
		s.Reports, err = middleware.New(v, append(apiOpts, middleware.WithCheck(RequireRole(ReportRole)))...)
	}
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("demo: %w", err)
	}
	return s, nil
}

// Close stops the verifier and the emulator.
func (s *Service) Close() error {
	var err error
	if s.Verifier != nil {
		err = s.Verifier.Close()
	}
	s.closeEmulator()
	return err
}

func (s *Service) closeEmulator() {
	if s.Emulator != nil {
		s.Emulator.Close()
	}
}

// PrintUsage prints curl lines for the service at baseURL.
func (s *Service) PrintUsage(out io.Writer, baseURL string) {
	tok := s.DemoToken
	if tok == "" {
		tok = "$M2M_TOKEN"
	}
	fmt.Fprintf(out, "Listening on %s\n", baseURL)
	fmt.Fprintf(out, "  curl %s/healthz\n", baseURL)
	fmt.Fprintf(out, "  curl -H 'Authorization: Bearer %s' %s/api/whoami\n", tok, baseURL)
	fmt.Fprintf(out, "  curl -H 'Authorization: Bearer %s' %s/api/reports\n", tok, baseURL)
}

var errNoListener = errors.New("demo: no listen address")

// BaseURL turns a listener address into an http:// URL.
func BaseURL(addr string) string {
	if strings.HasPrefix(addr, "[::]:") {
		addr = "localhost:" + strings.TrimPrefix(addr, "[::]:")
	}
	return "http://" + addr
}
