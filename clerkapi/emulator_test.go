package clerkapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
)

var epoch = time.Date(2026, 5, 12, 9, 30, 0, 0, time.UTC)

// apiFixture is an emulator with a receiver, a caller scoped to it and an
// unscoped machine, and a client per key.
type apiFixture struct {
	clock                   *clerktest.Clock
	srv                     *clerktest.Server
	receiver, caller, loner *clerktest.Machine
	admin, asCaller, asRecv *clerkapi.Client
	asLoner                 *clerkapi.Client
}

func newAPIFixture(t *testing.T) *apiFixture {
	t.Helper()
	f := &apiFixture{clock: clerktest.NewClock(epoch)}
	f.srv = clerktest.NewServer(clerktest.WithClock(f.clock.Now))
	t.Cleanup(f.srv.Close)
	f.receiver = f.srv.CreateMachine("receiver")
	f.caller = f.srv.CreateMachine("caller", f.receiver.ID)
	f.loner = f.srv.CreateMachine("loner")
	f.admin = apiClient(t, f.srv.URL, f.srv.SecretKey)
	f.asCaller = apiClient(t, f.srv.URL, f.caller.SecretKey)
	f.asRecv = apiClient(t, f.srv.URL, f.receiver.SecretKey)
	f.asLoner = apiClient(t, f.srv.URL, f.loner.SecretKey)
	return f
}

func apiClient(t testing.TB, base, key string, opts ...clerkapi.Option) *clerkapi.Client {
	t.Helper()
	c, err := clerkapi.New(key, append([]clerkapi.Option{clerkapi.WithBaseURL(base)}, opts...)...)
	if err != nil {
		t.Fatalf("clerkapi.New: %v", err)
	}
	return c
}

func TestRoundTrips(t *testing.T) {
	f := newAPIFixture(t)
	ctx := context.Background()

	tok, err := f.asCaller.CreateToken(ctx, clerkapi.CreateParams{
		SecondsUntilExpiration: clerkapi.Int64(900), Claims: map[string]any{"env": "test"}})
	if err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	if tok.Object != clerkapi.ObjectM2MToken || tok.Subject != f.caller.ID || !strings.HasPrefix(tok.Token, "mt_") ||
		string(tok.Claims) != `{"env":"test"}` || len(tok.Scopes) != 1 || tok.Scopes[0] != f.receiver.ID {
		t.Fatalf("CreateToken: got %+v", tok)
	}
	// Timestamps: milliseconds become time.Time, null becomes the zero time.
	if !tok.CreatedAt.Equal(epoch) || !tok.UpdatedAt.Equal(epoch) || !tok.Expiration.Equal(epoch.Add(900*time.Second)) || !tok.LastUsedAt.IsZero() {
		t.Errorf("timestamps: got created %v updated %v expiration %v last used %v", tok.CreatedAt, tok.UpdatedAt, tok.Expiration, tok.LastUsedAt)
	}

	f.clock.Advance(90 * time.Second)
	v, err := f.asRecv.VerifyToken(ctx, tok.Token)
	if err != nil || v.ID != tok.ID || v.Token != "" || !v.LastUsedAt.Equal(epoch.Add(90*time.Second)) || v.Revoked || v.Expired {
		t.Fatalf("VerifyToken: got %+v, %v", v, err)
	}

	l, err := f.asCaller.ListTokens(ctx, clerkapi.ListParams{Subject: f.caller.ID, Limit: 10})
	if err != nil || l.TotalCount != 1 || len(l.M2MTokens) != 1 || l.M2MTokens[0].ID != tok.ID || !l.M2MTokens[0].LastUsedAt.Equal(epoch.Add(90*time.Second)) {
		t.Fatalf("ListTokens: got %+v, %v", l, err)
	}

	r, err := f.admin.RevokeToken(ctx, tok.ID, "")
	if err != nil || !r.Revoked || r.RevocationReason != nil || !r.UpdatedAt.Equal(epoch.Add(90*time.Second)) {
		t.Fatalf("RevokeToken without reason: got %+v, %v; want revoked with a null reason", r, err)
	}

	jwtTok, err := f.asCaller.CreateToken(ctx, clerkapi.CreateParams{TokenFormat: clerkapi.FormatJWT})
	if err != nil || strings.Count(jwtTok.Token, ".") != 2 {
		t.Fatalf("CreateToken jwt: got %+v, %v", jwtTok, err)
	}
	if v, err := f.asRecv.VerifyToken(ctx, jwtTok.Token); err != nil || v.ID != jwtTok.ID {
		t.Errorf("VerifyToken jwt: got %+v, %v", v, err)
	}
	set, err := f.admin.JWKS(ctx)
	if err != nil || len(set.Keys) != 1 || set.Keys[0].Kty != "RSA" || set.Keys[0].N == "" || set.Keys[0].E == "" {
		t.Errorf("JWKS: got %+v, %v", set, err)
	}
}

// TestMachineCredentialRoundTrips verifies an API key and OAuth access
// tokens (opaque and JWT) minted by the emulator, and sees an expired JWT
// come back as {"active": false}.
func TestMachineCredentialRoundTrips(t *testing.T) {
	f := newAPIFixture(t)
	ctx := context.Background()
	const user = "user_2xhFjEI5X2qWRvtV13BzSj8H6Dk"

	key, err := f.srv.CreateAPIKey(clerktest.APIKeyParams{Name: "reports", Subject: f.caller.ID, Scopes: []string{"reports:read"}, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Second)
	k, err := f.admin.VerifyAPIKey(ctx, key.Secret)
	if err != nil || k.ID != key.ID || !clerkapi.APIKeyIDPattern.MatchString(k.ID) || k.Subject != f.caller.ID || k.Name != "reports" ||
		len(k.Scopes) != 1 || k.Scopes[0] != "reports:read" || !k.Expiration.Equal(epoch.Add(time.Hour)) || !k.LastUsedAt.Equal(epoch.Add(time.Second)) {
		t.Errorf("VerifyAPIKey: got %+v, %v", k, err)
	}
	var ae *clerkapi.APIError
	if _, err := f.asRecv.VerifyAPIKey(ctx, key.Secret); !errors.As(err, &ae) || ae.StatusCode != 401 {
		t.Errorf("VerifyAPIKey with a machine key: got %v, want 401", err)
	}

	app := f.srv.CreateOAuthApplication("agent")
	for _, format := range []clerkapi.TokenFormat{clerkapi.FormatOpaque, clerkapi.FormatJWT} {
		tok, err := f.srv.CreateOAuthAccessToken(clerktest.OAuthAccessTokenParams{UserID: user, ClientID: app.ClientID,
			Scopes: []string{"read"}, Format: format, TTL: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		v, err := f.admin.VerifyOAuthAccessToken(ctx, tok)
		if err != nil || v.Inactive || v.Object != clerkapi.ObjectOAuthAccessToken || !clerkapi.OAuthTokenIDPattern.MatchString(v.ID) ||
			v.ClientID != app.ClientID || v.Subject != user || len(v.Scopes) != 1 || !v.Expiration.Equal(f.clock.Now().Add(time.Minute)) {
			t.Errorf("VerifyOAuthAccessToken %s: got %+v, %v", format, v, err)
		}
		f.clock.Advance(time.Minute)
		v, err = f.admin.VerifyOAuthAccessToken(ctx, tok)
		switch format {
		case clerkapi.FormatJWT:
			if err != nil || !v.Inactive || v.ID != "" {
				t.Errorf("expired JWT: got %+v, %v; want Inactive", v, err)
			}
		default:
			if !errors.As(err, &ae) || ae.StatusCode != 404 {
				t.Errorf("expired opaque token: got %+v, %v; want 404", v, err)
			}
		}
	}
}

// TestDocumentedErrors checks that every error the endpoints document reaches
// the caller as an *APIError with Clerk's fields.
func TestDocumentedErrors(t *testing.T) {
	f := newAPIFixture(t)
	ctx := context.Background()
	tok, err := f.asCaller.CreateToken(ctx, clerkapi.CreateParams{})
	if err != nil {
		t.Fatal(err)
	}
	wrongSK := apiClient(t, f.srv.URL, "sk_test_wrongwrongwrong")
	wrongAK := apiClient(t, f.srv.URL, "ak_wrongwrongwrong")
	for _, c := range []struct {
		name       string
		fault      clerktest.Fault
		call       func() error
		status     int
		code       string
		param      string // meta.param_name
		retryAfter time.Duration
	}{
		{"create: lifetime 0", nil, func() error {
			_, err := f.asCaller.CreateToken(ctx, clerkapi.CreateParams{SecondsUntilExpiration: clerkapi.Int64(0)})
			return err
		}, 400, "form_param_value_invalid", "seconds_until_expiration", 0},
		{"create: bad format", nil, func() error {
			_, err := f.asCaller.CreateToken(ctx, clerkapi.CreateParams{TokenFormat: "paseto"})
			return err
		}, 400, "form_param_value_invalid", "token_format", 0},
		{"create: min ttl too long", nil, func() error {
			_, err := f.asCaller.CreateToken(ctx, clerkapi.CreateParams{MinRemainingTTLSeconds: clerkapi.Int64(3600)})
			return err
		}, 400, "form_param_value_invalid", "min_remaining_ttl_seconds", 0},
		{"create: with the instance key", nil, func() error {
			_, err := f.admin.CreateToken(ctx, clerkapi.CreateParams{})
			return err
		}, 401, clerkapi.CodeMachineSecretKeyInvalid, "", 0},
		{"verify: unknown machine key", nil, func() error { _, err := wrongAK.VerifyToken(ctx, tok.Token); return err },
			401, clerkapi.CodeMachineSecretKeyInvalid, "", 0},
		{"verify: wrong secret key", nil, func() error { _, err := wrongSK.VerifyToken(ctx, tok.Token); return err },
			401, clerkapi.CodeUnauthorized, "", 0},
		{"verify: unscoped", nil, func() error { _, err := f.asLoner.VerifyToken(ctx, tok.Token); return err },
			404, clerkapi.CodeResourceNotFound, "", 0},
		{"verify: unknown", nil, func() error { _, err := f.admin.VerifyToken(ctx, "mt_nope"); return err },
			404, clerkapi.CodeResourceNotFound, "", 0},
		{"list: other machine", nil, func() error {
			_, err := f.asRecv.ListTokens(ctx, clerkapi.ListParams{Subject: f.caller.ID})
			return err
		}, 403, "authorization_invalid", "", 0},
		{"list: limit too high", nil, func() error {
			_, err := f.admin.ListTokens(ctx, clerkapi.ListParams{Subject: f.caller.ID, Limit: 500})
			return err
		}, 400, "bad_request", "limit", 0},
		{"list: unknown machine", nil, func() error {
			_, err := f.admin.ListTokens(ctx, clerkapi.ListParams{Subject: "mch_000000000000000000000000000"})
			return err
		}, 404, clerkapi.CodeResourceNotFound, "", 0},
		{"revoke: unknown", nil, func() error {
			_, err := f.admin.RevokeToken(ctx, "mt_00000000000000000000000000000000", "x")
			return err
		}, 404, clerkapi.CodeResourceNotFound, "", 0},
		{"revoke: not own", nil, func() error { _, err := f.asLoner.RevokeToken(ctx, tok.ID, "x"); return err },
			404, clerkapi.CodeResourceNotFound, "", 0},
		{"jwks: machine key", nil, func() error { _, err := f.asCaller.JWKS(ctx); return err },
			403, "authorization_invalid", "", 0},
		{"429 rate limited", clerktest.RateLimited(7 * time.Second), func() error { _, err := f.asRecv.VerifyToken(ctx, tok.Token); return err },
			429, clerkapi.CodeTooManyRequests, "", 7 * time.Second},
		{"429 rate limit window", clerktest.RateLimit(0, 30*time.Second), func() error { _, err := f.admin.JWKS(ctx); return err },
			429, clerkapi.CodeTooManyRequests, "", 30 * time.Second},
		{"500", clerktest.FailNext(1, 500), func() error { _, err := f.asRecv.VerifyToken(ctx, tok.Token); return err },
			500, "internal_clerk_error", "", 0},
		{"502", clerktest.FailNext(1, 502), func() error { _, err := f.asCaller.CreateToken(ctx, clerkapi.CreateParams{}); return err },
			502, "bad_gateway", "", 0},
		{"503", clerktest.FailNext(1, 503), func() error {
			_, err := f.admin.ListTokens(ctx, clerkapi.ListParams{Subject: f.caller.ID})
			return err
		}, 503, "service_unavailable", "", 0},
		{"504", clerktest.FailNext(1, 504), func() error { _, err := f.admin.RevokeToken(ctx, tok.ID, ""); return err },
			504, "gateway_timeout", "", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			f.srv.Inject(c.fault)
			defer f.srv.ClearFaults()
			err := c.call()
			var ae *clerkapi.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("got %v, want an *APIError", err)
			}
			if ae.StatusCode != c.status || !ae.HasCode(c.code) || ae.RetryAfter != c.retryAfter || ae.TraceID == "" ||
				ae.Errors[0].Message == "" || ae.Errors[0].LongMessage == "" {
				t.Errorf("got status %d, errors %+v, retry after %v, trace %q; want %d %s, retry after %v, a trace ID and messages",
					ae.StatusCode, ae.Errors, ae.RetryAfter, ae.TraceID, c.status, c.code, c.retryAfter)
			}
			if c.param != "" {
				var meta struct {
					ParamName string `json:"param_name"`
				}
				if json.Unmarshal(ae.Errors[0].Meta, &meta); meta.ParamName != c.param {
					t.Errorf("got meta %s, want param_name %q", ae.Errors[0].Meta, c.param)
				}
			}
			for _, secret := range []string{tok.Token, f.srv.SecretKey, f.caller.SecretKey, f.receiver.SecretKey, f.loner.SecretKey, "wrongwrongwrong"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q contains a secret", err)
				}
			}
		})
	}
}

// countingTransport counts the response body bytes the client reads.
type countingTransport struct{ read atomic.Int64 }

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = &countingBody{ReadCloser: resp.Body, n: &c.read}
	return resp, nil
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

func TestResponseSizeLimit(t *testing.T) {
	f := newAPIFixture(t)
	ct := &countingTransport{}
	api := apiClient(t, f.srv.URL, f.receiver.SecretKey, clerkapi.WithHTTPClient(&http.Client{Transport: ct, Timeout: 10 * time.Second}))
	tok, err := f.srv.CreateToken(f.caller.ID, clerkapi.CreateParams{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		fault clerktest.Fault
		limit int64
	}{
		{"50 MiB body, default limit", clerktest.Oversized(50 << 20), clerkapi.DefaultMaxResponseBytes},
		{"one byte over a custom limit", clerktest.Oversized(4097), 4096},
	} {
		t.Run(c.name, func(t *testing.T) {
			ct.read.Store(0)
			api := api
			if c.limit != clerkapi.DefaultMaxResponseBytes {
				api = apiClient(t, f.srv.URL, f.receiver.SecretKey, clerkapi.WithMaxResponseBytes(c.limit),
					clerkapi.WithHTTPClient(&http.Client{Transport: ct, Timeout: 10 * time.Second}))
			}
			f.srv.Inject(c.fault)
			defer f.srv.ClearFaults()
			_, err := api.VerifyToken(context.Background(), tok.Token)
			if !errors.Is(err, clerkapi.ErrResponseTooLarge) {
				t.Fatalf("got %v, want ErrResponseTooLarge", err)
			}
			if got := ct.read.Load(); got > c.limit+64<<10 {
				t.Errorf("client read %d bytes, want at most about the %d-byte limit", got, c.limit)
			}
			if strings.Contains(err.Error(), tok.Token) || strings.Contains(err.Error(), f.receiver.SecretKey) {
				t.Errorf("error %q contains a secret", err)
			}
		})
	}
	// An answer exactly at the limit is fine.
	f.srv.InjectOn(clerktest.EndpointJWKS, clerktest.Oversized(4096))
	small := apiClient(t, f.srv.URL, f.srv.SecretKey, clerkapi.WithMaxResponseBytes(4096))
	if _, err := small.JWKS(context.Background()); err != nil {
		t.Errorf("body at the limit: got %v, want success", err)
	}
}

func TestTransportFaults(t *testing.T) {
	f := newAPIFixture(t)
	tok, _ := f.srv.CreateToken(f.caller.ID, clerkapi.CreateParams{})
	held := clerktest.Hang()
	for _, c := range []struct {
		name     string
		fault    clerktest.Fault
		deadline time.Duration   // > 0: the call's deadline; the emulator never answers before it
		cancelAt <-chan struct{} // non-nil: cancel the call once this is ready
		want     error           // nil: any non-API error
	}{
		{"malformed", clerktest.Malformed(), 0, nil, clerkapi.ErrMalformedResponse},
		{"hang, caller cancels", held, 0, held.Arrived(1), context.Canceled},
		{"hang past the deadline", clerktest.Hang(), 30 * time.Millisecond, nil, context.DeadlineExceeded},
		{"latency past the deadline", clerktest.Latency(time.Hour), 30 * time.Millisecond, nil, context.DeadlineExceeded},
		{"drop", clerktest.Drop(), 0, nil, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			f.srv.Inject(c.fault)
			defer f.srv.ClearFaults()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if c.deadline > 0 {
				ctx, cancel = context.WithTimeout(ctx, c.deadline)
				defer cancel()
			}
			if c.cancelAt != nil {
				go func() {
					select {
					case <-c.cancelAt: // the request is held at the emulator
						cancel()
					case <-ctx.Done():
					}
				}()
			}
			_, err := f.asRecv.VerifyToken(ctx, tok.Token)
			var ae *clerkapi.APIError
			switch {
			case err == nil || errors.As(err, &ae):
				t.Fatalf("got %v, want a transport or decoding error", err)
			case c.want != nil && !errors.Is(err, c.want):
				t.Fatalf("got %v, want %v", err, c.want)
			}
			if strings.Contains(err.Error(), tok.Token) || strings.Contains(err.Error(), f.receiver.SecretKey) {
				t.Errorf("error %q contains a secret", err)
			}
		})
	}
}

// TestErrorsNeverLeakSecrets feeds every verify call answers that echo the
// request's token and key back in every place an error could print.
func TestErrorsNeverLeakSecrets(t *testing.T) {
	const key = "sk_test_supersecretkey"
	for _, v := range []struct {
		kind, token string
		verify      func(c *clerkapi.Client, token string) error
	}{
		{"m2m", "mt_secrettokenvalue0123456789abcd", func(c *clerkapi.Client, tok string) error {
			_, err := c.VerifyToken(context.Background(), tok)
			return err
		}},
		{"api key", "ak_secretapikeyvalue0123456789abc", func(c *clerkapi.Client, tok string) error {
			_, err := c.VerifyAPIKey(context.Background(), tok)
			return err
		}},
		{"oauth", "oat_secretoauthvalue0123456789abc", func(c *clerkapi.Client, tok string) error {
			_, err := c.VerifyOAuthAccessToken(context.Background(), tok)
			return err
		}},
	} {
		token := v.token
		for _, c := range []struct {
			name   string
			status int
			body   string
		}{
			{"invalid JSON echo", 200, `{"id":"` + token + `","token":` + token + `}`},
			{"wrong type echo", 200, `{"id":{"k":"` + token + `"},"token":"` + key + `"}`},
			{"wrong type of active", 200, `{"active":"` + token + `"}`},
			{"wrong type of scopes", 200, `{"scopes":"` + token + `"}`},
			{"error body echo", 400, `{"errors":[{"code":"x","message":"bad","long_message":"` + token + `"}]}`},
			{"non-JSON error echo", 500, token + " " + key},
		} {
			if c.name == "wrong type of active" && v.kind != "oauth" {
				continue // only the OAuth answer has an active member
			}
			t.Run(v.kind+"/"+c.name, func(t *testing.T) {
				err := v.verify(apiClient(t, echoServer(t, c.status, c.body), key), token)
				if err == nil {
					t.Fatal("got nil, want an error")
				}
				if strings.Contains(err.Error(), token) || strings.Contains(err.Error(), key) {
					t.Errorf("error %q contains the token or the key", err)
				}
			})
		}
	}
}

func TestClientSideValidation(t *testing.T) {
	f := newAPIFixture(t)
	ctx := context.Background()
	if _, err := f.admin.ListTokens(ctx, clerkapi.ListParams{Subject: "user_1"}); err == nil {
		t.Error("ListTokens with a non-machine subject: got nil, want an error")
	}
	if _, err := f.admin.RevokeToken(ctx, "mt_../../jwks", ""); err == nil {
		t.Error("RevokeToken with a bad ID: got nil, want an error")
	}
	if got := f.srv.Calls(clerktest.EndpointList) + f.srv.Calls(clerktest.EndpointRevoke); got != 0 {
		t.Errorf("got %d calls, want none: bad parameters must not reach the network", got)
	}
}
