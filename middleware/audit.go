package middleware

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/m2mauth/m2mauth/verifier"
)

// Success describes a request let through with a verified token, for the
// hook set by WithOnSuccess.
type Success struct {
	// Token is the verified token; read-only, shared with the handler.
	Token *verifier.Token
	// Source is the request's source as the per-source budget names it (the
	// client's IP by default, see RemoteIP).
	Source string
	// Request is the HTTP request, nil when the request came through
	// AuthenticateBearer (gRPC: grpc.Method(ctx) names the RPC there).
	Request *http.Request
}

// A SuccessFunc is called with every request that passes with a verified
// token, for audit lines ("who called"). It runs on the request's goroutine
// before the handler, so it must be quick and safe for concurrent use; it
// cannot refuse the request (that is WithCheck's job). Token.ID and
// Token.Subject are safe to log; the token's value is not in Success.
type SuccessFunc func(ctx context.Context, s Success)

// WithOnSuccess calls hook for every request that passes with a verified
// token, after the policy accepted it; not for skipped requests nor for
// requests WithOptional lets through without a token.
//
// Default: no hook.
func WithOnSuccess(hook SuccessFunc) Option {
	return func(c *config) error {
		if hook == nil {
			return errors.New("middleware: WithOnSuccess(nil)")
		}
		c.onSuccess = hook
		return nil
	}
}

// WithLogger logs every refused request to l at Debug level, with the
// request's context: the message "m2mauth: request refused" and the
// attributes status (the HTTP status, 499 for a client gone), error (the JSON
// body's code, e.g. invalid_token), reason (the error_description the caller
// sees), source, and, when the token was verified before the policy refused
// it, subject and token_id; for a verifier failure (Clerk unavailable,
// misconfigured, a custom Verifier's error) also cause, the error's text. The
// token itself is never logged, nor the text of a custom check's or
// extractor's error (which may quote what it was given). Nothing is formatted
// unless l is enabled for Debug.
//
// Default: no logging (the Verifier still logs a misconfigured key once at
// Error, see verifier.WithLogger).
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("middleware: WithLogger(nil)")
		}
		c.logger = l
		return nil
	}
}

// logs reports whether a refusal would be logged.
func (a *Authenticator) logs(ctx context.Context) bool {
	return a.cfg.logger != nil && a.cfg.logger.Enabled(ctx, slog.LevelDebug)
}

// refused logs the refusal err (when WithLogger asks for it) and returns err.
// tok is the verified token the policy refused, or nil.
func (a *Authenticator) refused(ctx context.Context, err error, tok *verifier.Token, source string) error {
	if a.logs(ctx) {
		a.logRefusal(ctx, err, tok, source)
	}
	return err
}

func (a *Authenticator) logRefusal(ctx context.Context, err error, tok *verifier.Token, source string) {
	resp := a.Response(err)
	attrs := make([]slog.Attr, 0, 7)
	attrs = append(attrs,
		slog.Int("status", resp.Status),
		slog.String("error", resp.Body.Error),
		slog.String("reason", resp.Body.Description),
		slog.String("source", source))
	if tok != nil {
		attrs = append(attrs, slog.String("subject", tok.Subject), slog.String("token_id", tok.ID))
	}
	var me *MissingTokenError
	var fe *ForbiddenError
	if !errors.As(err, &me) && !errors.As(err, &fe) && !errors.Is(err, verifier.ErrInvalidToken) {
		attrs = append(attrs, slog.String("cause", err.Error()))
	}
	a.cfg.logger.LogAttrs(ctx, slog.LevelDebug, "m2mauth: request refused", attrs...)
}
