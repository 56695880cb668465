package m2mgrpc

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/m2mauth/m2mauth/middleware"
)

// Status maps an error of Authenticator.Authenticate or AuthenticateBearer to
// the gRPC status the interceptors return (see the package documentation):
// the code that corresponds to a.Response(err).Status, the message
// "<error code>: <description>" of its JSON body (followed by
// ` (scope="…")` when a 403 names the scopes it needs), and for ResourceExhausted and
// Unavailable a google.rpc.RetryInfo detail with the Retry-After delay.
func Status(a *middleware.Authenticator, err error) *status.Status {
	resp := a.Response(err)
	msg := resp.Body.Error + ": " + resp.Body.Description
	if resp.Body.Scope != "" {
		msg += ` (scope="` + resp.Body.Scope + `")`
	}
	var code codes.Code
	switch resp.Status {
	case http.StatusUnauthorized:
		code = codes.Unauthenticated
	case http.StatusForbidden:
		code = codes.PermissionDenied
	case http.StatusTooManyRequests:
		code = codes.ResourceExhausted
	case http.StatusServiceUnavailable:
		code = codes.Unavailable
	case middleware.StatusClientClosedRequest:
		code = codes.Canceled
		if errors.Is(err, context.DeadlineExceeded) {
			code = codes.DeadlineExceeded
		}
	default:
		code = codes.Internal
	}
	st := status.New(code, msg)
	if resp.RetryAfter == "" {
		return st
	}
	secs, perr := strconv.Atoi(resp.RetryAfter)
	if perr != nil || secs <= 0 { // cannot happen: Response writes whole seconds ≥ 1
		return st
	}
	withRetry, derr := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(time.Duration(secs) * time.Second)})
	if derr != nil { // cannot happen: RetryInfo marshals
		return st
	}
	return withRetry
}
