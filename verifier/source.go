package verifier

import "context"

// sourceKey is the context key of a request's source.
type sourceKey struct{}

// WithSource returns a copy of ctx carrying source: who sent the request being
// verified (the middleware puts the client's IP there). A Verifier charges the
// calls to Clerk that cache misses cause to their source's budget (see
// WithSourceBudget), so that one source cannot spend the calls of others.
// Misses without a source are charged to the Verifier's overall budget
// (WithCallBudget) only.
//
// The source is a budget key, never logged or exported: keep it short (an
// address or a prefix, not a header's whole value).
func WithSource(ctx context.Context, source string) context.Context {
	return context.WithValue(ctx, sourceKey{}, source)
}

// SourceFromContext returns the source WithSource put in ctx.
func SourceFromContext(ctx context.Context) (string, bool) {
	s, ok := ctx.Value(sourceKey{}).(string)
	return s, ok
}
