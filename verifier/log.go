package verifier

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"slices"
)

// toDefault is the Verifier's log handler without WithLogger: it forwards
// Warn and Error records to slog.Default()'s handler as it is when each
// record is written, so that a program that sets its default logger after
// New is heard, and drops the rest (the Debug lines of each failed call).
type toDefault struct {
	with []func(slog.Handler) slog.Handler // WithAttrs and WithGroup, in order
}

func (h toDefault) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && slog.Default().Handler().Enabled(ctx, l)
}

func (h toDefault) Handle(ctx context.Context, r slog.Record) error {
	d := slog.Default().Handler()
	for _, f := range h.with {
		d = f(d)
	}
	return d.Handle(ctx, r)
}

func (h toDefault) WithAttrs(as []slog.Attr) slog.Handler {
	return toDefault{with: append(slices.Clip(h.with), func(d slog.Handler) slog.Handler { return d.WithAttrs(as) })}
}

func (h toDefault) WithGroup(name string) slog.Handler {
	return toDefault{with: append(slices.Clip(h.with), func(d slog.Handler) slog.Handler { return d.WithGroup(name) })}
}

// sawClerk records the raw outcome of a call to Clerk (verify or JWKS) for
// the log and for Ready: the first call of an outage that got no answer, or
// a 5xx, is logged at Warn with its cause; the first call that gets an answer
// again ends the outage, logged at Warn too. A call that Close abandoned says
// nothing of Clerk.
func (v *Verifier) sawClerk(ctx context.Context, raw error) {
	switch {
	case v.closing.Err() != nil:
		return
	case sick(raw):
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			raw = &timeoutError{d: v.cfg.limits.Timeout} // not net/http's "context deadline exceeded"
		}
		v.health.sawFailure(raw, v.now())
		if v.clerkDown.CompareAndSwap(false, true) {
			v.log.Warn("m2mauth verifier: Clerk unavailable; tokens not in the cache get 503 until it answers again",
				"cause", cause(raw), "base_url", redactedURL(v.client.BaseURL()))
		}
	default:
		v.health.sawFailure(nil, v.now())
		if v.clerkDown.CompareAndSwap(true, false) {
			v.log.Warn("m2mauth verifier: Clerk answering again")
		}
	}
}

// cause returns the text of a failed call's error without the request line
// that net/http puts around a transport failure ("Post \"…\": dial tcp …:
// connect: connection refused" becomes "dial tcp …: connect: connection
// refused"), or Clerk's status for an answer.
func cause(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err.Error()
	}
	return err.Error()
}

// redactedURL returns u with any password replaced by "xxxxx".
func redactedURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(unparseable)"
	}
	return p.Redacted()
}
