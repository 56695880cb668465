// Package m2mgrpc is m2mauth's gRPC adapter: server interceptors that
// authenticate every RPC with a middleware.Authenticator, and, on the calling
// side, credentials.PerRPCCredentials fed by an m2mclient.TokenSource.
//
// The server side:
//
//	in, err := m2mgrpc.New(auth) // auth: a *middleware.Authenticator
//	if err != nil { … }
//	srv := grpc.NewServer(in.ServerOptions()...)
//	// in a handler:
//	tok, ok := m2mgrpc.Token(ctx)
//
// The interceptors name the source for the Verifier's per-source budget from
// the peer's address by middleware.RemoteIP's rules and hand it, with the
// metadata "authorization: Bearer …", to Authenticator.AuthenticateBearer,
// which reads the token by BearerToken's rules (one value, at most 32 KiB +
// 64 bytes, a token68): the verification, the policy (audience, subjects,
// checks), the logging (malformed metadata included) and the success hook
// are the Authenticator's, as for HTTP. The options of the
// Authenticator that read an *http.Request (WithSkipper, WithExtractor,
// WithSourceFunc, WithErrorHandler, WithRealm) play no part here; this
// package's options do their work.
//
// A refusal is a gRPC status whose message is the JSON body's code and
// description of the HTTP answer ("invalid_token: token not found"), never
// the token:
//
//	no/malformed authorization metadata    Unauthenticated   (HTTP 401)
//	invalid, expired, revoked token        Unauthenticated   (401)
//	policy refusal (scope, subject, check) PermissionDenied  (403)
//	source over its budget of misses       ResourceExhausted (429) + RetryInfo
//	Clerk unavailable                      Unavailable       (503) + RetryInfo
//	Clerk refused our key, other errors    Internal          (500)
//	the RPC's context ended while waiting  Canceled or DeadlineExceeded (499)
//
// RetryInfo (google.rpc.RetryInfo in the status details) carries the delay
// the HTTP Retry-After would: Clerk's, capped, or the Authenticator's
// WithRetryAfter, in whole seconds.
//
// The methods of the health service (grpc.health.v1.Health) and of server
// reflection (grpc.reflection.v1 and v1alpha) are skipped by default, by
// their exact full names: they pass without a token and without a call to
// the verifier. WithSkipMethods adds methods or services; WithoutDefaultSkips
// authenticates those too.
//
// Concurrency: an Interceptor and a PerRPCCredentials are immutable after
// construction and safe for concurrent use by multiple goroutines, provided
// the Authenticator, the TokenSource and the functions given as options are.
// Neither starts a goroutine.
package m2mgrpc
