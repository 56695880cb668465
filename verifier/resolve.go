package verifier

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"syscall"
	"time"

	"github.com/m2mauth/m2mauth/cache"
	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/internal/wire"
)

// flight is the shared call of a cold token, run once for all its concurrent
// callers on a context detached from theirs, top to bottom: the cache again
// (recheck), the shared cache (stage 4: read-or-lock, or another replica's
// result), admission (stage 5), resolve (7) and store (8, which writes the
// shared cache and releases its lock). Its answer is every waiter's. The call
// to Clerk, if any, is charged to the budget of source, the source of the
// caller that started the flight (see admission.begin).
func (v *Verifier) flight(parent context.Context, key cache.Key, token string, kind Kind, source string) (*Token, error) {
	if tok, err, ok := v.recheck(key); ok {
		return tok, err
	}
	// The shared cache's part of this flight (shared.go); none for a local
	// JWT: checking it is as cheap as sharing it.
	var turn *turn
	if v.shared != nil && !v.isLocalJWT(token) {
		turn = v.shared.begin(key)
		if e, ok := turn.result(); ok {
			v.cache.Set(key, e)
			return e.Value.answer(e.Negative, v.now())
		}
	}
	src, err := v.admitMiss(key, token, source)
	d := verdict{err: err}
	if err == nil {
		d = v.resolve(parent, token, kind, src)
	}
	v.store(key, d, v.now(), turn)
	return d.result()
}

// resolve is stage 7: it finds out about a cold token of kind kind, storing
// nothing. A JWT verified with a Clerk secret key is checked here (jwt.go);
// any other token goes to its kind's verify endpoint (resolveClerk).
func (v *Verifier) resolve(parent context.Context, token string, kind Kind, src *budget) verdict {
	if v.isLocalJWT(token) {
		return v.resolveJWT(parent, token, kind)
	}
	return v.resolveClerk(parent, token, kind, src)
}

// resolveClerk asks the verify endpoint of kind about token, once the flight
// is admitted (back-off gate, budgets, cap on calls in flight, breaker),
// within Limits.Timeout and cancelled by Close.
func (v *Verifier) resolveClerk(parent context.Context, token string, kind Kind, src *budget) verdict {
	up := upstreams[kind]
	// Clerk may have asked us to wait since the caller's admission.
	now := v.now()
	if err := v.backoff.refuse(now); err != nil {
		return verdict{err: err}
	}
	end, err := v.admit.begin(v.closing, now, src)
	if err != nil {
		return verdict{err: err}
	}
	parent, observed := v.startCall(parent, EndpointVerify, kind) // WithObserver
	ctx, cancel := context.WithTimeout(parent, v.cfg.limits.Timeout)
	defer cancel()
	stop := context.AfterFunc(v.closing, cancel) // Close cancels calls in flight
	defer stop()

	a, err := v.call(ctx, up, token)
	if v.closing.Err() != nil {
		end(errAbandoned)
	} else {
		end(err)
	}
	v.sawClerk(ctx, err)
	var d verdict
	if err != nil {
		d = v.upstreamError(ctx, err, up)
	} else {
		d = v.judge(a, kind)
	}
	_, derr := d.result()
	v.health.sawVerify(derr)
	observed(err, derr)
	return d
}

// An upstream is how Clerk verifies one kind of token: its endpoint (for log
// lines), what its 404 means, and the call, which turns Clerk's 200 into an
// answer in the terms every kind shares. The body field (token, secret,
// access_token) is clerkapi's business.
type upstream struct {
	endpoint string
	notFound string // the reason of Clerk's 404
	verify   func(ctx context.Context, c *clerkapi.Client, token string) (answer, error)
}

// upstreams are the verify endpoints, by kind.
var upstreams = map[Kind]upstream{
	KindM2M:    {"POST /m2m_tokens/verify", "token unknown, revoked, expired or not granted to this machine", verifyM2M},
	KindAPIKey: {"POST /api_keys/verify", "API key unknown, revoked or expired", verifyAPIKey},
	KindOAuth:  {"POST /oauth_applications/access_tokens/verify", "OAuth access token unknown, revoked or expired", verifyOAuth},
}

// answer is a verify endpoint's 200 answer, in the terms every kind shares.
type answer struct {
	tok     *Token // nil: not an object of the kind asked (a malformed answer)
	revoked bool
	expired bool // Clerk said expired, or not active (an OAuth JWT past its exp)
}

func verifyM2M(ctx context.Context, c *clerkapi.Client, token string) (answer, error) {
	m, err := c.VerifyToken(ctx, token)
	if err != nil {
		return answer{}, err
	}
	if m.ID == "" || m.Subject == "" || (m.Object != "" && m.Object != clerkapi.ObjectM2MToken) {
		return answer{}, nil
	}
	return answer{tok: newToken(m, token), revoked: m.Revoked, expired: m.Expired}, nil
}

func verifyAPIKey(ctx context.Context, c *clerkapi.Client, secret string) (answer, error) {
	k, err := c.VerifyAPIKey(ctx, secret)
	if err != nil {
		return answer{}, err
	}
	if k.ID == "" || k.Subject == "" || k.Object != clerkapi.ObjectAPIKey {
		return answer{}, nil
	}
	t := &Token{
		Kind:      KindAPIKey,
		ID:        k.ID,
		Subject:   k.Subject,
		Scopes:    slices.Clip(k.Scopes),
		Claims:    claimsOf(k.Claims),
		ExpiresAt: k.Expiration.Time,
		CreatedAt: k.CreatedAt.Time,
		Format:    clerkapi.FormatOpaque,
		Name:      k.Name,
	}
	return answer{tok: t, revoked: k.Revoked, expired: k.Expired}, nil
}

func verifyOAuth(ctx context.Context, c *clerkapi.Client, token string) (answer, error) {
	o, err := c.VerifyOAuthAccessToken(ctx, token)
	if err != nil {
		return answer{}, err
	}
	if o.Inactive {
		return answer{tok: &Token{Kind: KindOAuth}, expired: true}, nil // a JWT past its exp
	}
	if o.ID == "" || o.Subject == "" || o.Object != clerkapi.ObjectOAuthAccessToken {
		return answer{}, nil
	}
	t := &Token{
		Kind:      KindOAuth,
		ID:        o.ID,
		Subject:   o.Subject,
		Scopes:    slices.Clip(o.Scopes),
		ExpiresAt: o.Expiration.Time,
		CreatedAt: o.CreatedAt.Time,
		Format:    clerkapi.FormatOpaque,
		ClientID:  o.ClientID,
	}
	if wire.IsJWT(token) {
		t.Format = clerkapi.FormatJWT
	}
	return answer{tok: t, revoked: o.Revoked, expired: o.Expired}, nil
}

// judge checks a verify endpoint's 200 answer: a token Clerk reports as
// revoked, expired or not active, or whose expiry has passed on our clock,
// is refused; an answer that is not a token object of the kind asked is a
// failure, never a verdict.
func (v *Verifier) judge(a answer, kind Kind) verdict {
	if a.tok == nil {
		v.log.Debug("m2mauth verifier: clerk answered 200 with an unexpected object", "kind", kind)
		return verdict{err: &UnavailableError{Err: fmt.Errorf("%w: not a %s object", clerkapi.ErrMalformedResponse, kind)}}
	}
	t := a.tok
	switch {
	case a.revoked:
		return verdict{refused: &InvalidTokenError{Reason: "token revoked"}, id: t.ID}
	case a.expired, t.ExpiredAt(v.now()):
		return verdict{refused: &InvalidTokenError{Reason: "token expired"}, id: t.ID}
	}
	return verdict{tok: t, expires: t.ExpiresAt}
}

// call sends the verify request of up, retrying once, at once, when the
// connection failed before any answer (refused, reset, closed): never after
// a timeout or any HTTP answer.
func (v *Verifier) call(ctx context.Context, up upstream, token string) (answer, error) {
	v.stats.upstream.Add(1)
	a, err := up.verify(ctx, v.client, token)
	if err != nil && ctx.Err() == nil && isConnectionFailure(err) {
		v.stats.retries.Add(1)
		v.stats.upstream.Add(1)
		a, err = up.verify(ctx, v.client, token)
	}
	return a, err
}

// isConnectionFailure reports whether err is a transport failure that happened
// before any HTTP answer and is not a timeout. Such failures come from
// http.Client.Do as a *url.Error; a failure while reading an answer's body
// does not, and is not retried.
func isConnectionFailure(err error) bool {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return false
	}
	return errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF)
}

// upstreamError maps a failed call to the verdict every waiter gets. Only
// Clerk's refusal of the token (a 404 with Clerk's error JSON) is remembered;
// nothing transient, and no sign of a misconfiguration, ever is.
func (v *Verifier) upstreamError(ctx context.Context, err error, up upstream) verdict {
	var ae *clerkapi.APIError
	if !errors.As(err, &ae) {
		return verdict{err: v.noAnswer(ctx, "m2mauth verifier: clerk unavailable", err)}
	}
	clerk := ae.IsClerkError()
	switch s := ae.StatusCode; {
	case s == http.StatusNotFound && clerk:
		return verdict{refused: &InvalidTokenError{Reason: up.notFound, Err: ae}}
	case (s == http.StatusBadRequest || s == http.StatusUnprocessableEntity) && clerk:
		// Clerk refused the token's form; not remembered, as it could also
		// be a change on Clerk's side that a later call would not hit.
		return verdict{err: &InvalidTokenError{Reason: "token rejected by Clerk as malformed", Err: ae}}
	case s == http.StatusTooManyRequests || s >= 500 || (s >= 400 && clerk && s != http.StatusUnauthorized && s != http.StatusForbidden):
		// 429, 5xx, and any other 4xx of Clerk's: fail closed, try later.
		v.log.Debug("m2mauth verifier: clerk unavailable", "status", s, "retry_after", ae.RetryAfter, "trace_id", ae.TraceID)
		if v.backoff.open(v.now(), ae) {
			v.log.Warn("m2mauth verifier: clerk asked to wait; tokens not in the cache are refused without a call until then",
				"status", s, "retry_after", ae.RetryAfter, "max_backoff", v.cfg.limits.MaxBackoff, "trace_id", ae.TraceID)
			if v.shared != nil {
				v.shared.publishBackoff(s, min(ae.RetryAfter, v.cfg.limits.MaxBackoff)) // every replica waits too
			}
		}
		return verdict{err: v.unavailable(ae.RetryAfter, ae)}
	default:
		// 401/403 (Clerk's: our key; another's: not Clerk), a redirect, or a
		// 4xx whose body is not Clerk's error JSON.
		return verdict{err: v.misconfiguredAnswer(ae, up.endpoint)}
	}
}

// noAnswer maps a call that got no HTTP answer (network failure, timeout,
// unreadable body, Close) to ErrUnavailable, and logs it at Debug level.
func (v *Verifier) noAnswer(ctx context.Context, msg string, err error) error {
	switch {
	case v.closing.Err() != nil:
		return errClosedUnavailable
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		err = &timeoutError{d: v.cfg.limits.Timeout}
	}
	v.log.Debug(msg, "error", err.Error())
	return &UnavailableError{Err: err}
}

// timeoutError: Clerk gave no answer within the configured timeout.
type timeoutError struct{ d time.Duration }

func (e *timeoutError) Error() string { return fmt.Sprintf("no answer from clerk within %v", e.d) }
func (e *timeoutError) Timeout() bool { return true }

// The endpoints named in the Error lines.
const (
	endpointJWKS = "GET /jwks"
)

// misconfiguredAnswer returns the ErrMisconfigured error for an answer that
// shows the Verifier's configuration is wrong: Clerk's 401/403 to our key, or
// an answer that is not Clerk's at all. Each of the two is logged once per
// Verifier at Error level (see errorLog), without the key.
func (v *Verifier) misconfiguredAnswer(ae *clerkapi.APIError, endpoint string) *MisconfiguredError {
	if (ae.StatusCode == http.StatusUnauthorized || ae.StatusCode == http.StatusForbidden) && ae.IsClerkError() {
		if v.keyRefusedLogged.CompareAndSwap(false, true) {
			v.log.Error("m2mauth verifier: Clerk refused this service's secret key; every request will fail with 500 until the key is fixed",
				"endpoint", endpoint, "status", ae.StatusCode, "clerk_code", firstCode(ae), "key_kind", v.keyKind, "trace_id", ae.TraceID)
		}
		return &MisconfiguredError{Reason: ReasonKeyRefused, Err: ae}
	}
	if v.notClerkLogged.CompareAndSwap(false, true) {
		v.log.Error("m2mauth verifier: the base URL does not answer like Clerk's Backend API; every request will fail with 500 until WithBaseURL is fixed",
			"endpoint", endpoint, "status", ae.StatusCode, "base_url", redactedURL(v.client.BaseURL()))
	}
	return &MisconfiguredError{Reason: ReasonNotClerk, Err: ae}
}

// firstCode returns the first non-empty code of Clerk's errors.
func firstCode(ae *clerkapi.APIError) string {
	for _, d := range ae.Errors {
		if d.Code != "" {
			return d.Code
		}
	}
	return ""
}

// withoutRedirects returns a copy of hc (nil: a client on
// http.DefaultTransport) that does not follow redirects: the 3xx answer itself
// comes back, which the Verifier reads as "this base URL is not Clerk's
// Backend API" (Clerk's API never redirects). Following one would send the
// request, and for a same-host redirect the secret key, elsewhere.
func withoutRedirects(hc *http.Client) *http.Client {
	c := &http.Client{}
	if hc != nil {
		*c = *hc
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}
