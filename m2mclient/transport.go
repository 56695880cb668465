package m2mclient

import (
	"errors"
	"fmt"
	"io"
	"net/http"
)

// maxDrain is how much of a refused response's body is read before it is
// closed, so its connection can be reused.
const maxDrain = 4 << 10

// Transport is an [http.RoundTripper] that sends every request with
// "Authorization: Bearer <token>" from Source, replacing any Authorization the
// request had. It never modifies the caller's request.
//
// When the service answers 401 with a Bearer challenge error="invalid_token"
// (the token was revoked, expired early or lost its scope), Transport drops
// that token (see [TokenSource.Invalidate]), gets a new one and sends the
// request once more — only if the body can be sent again: no body, or req.GetBody set (as http.NewRequest does
// for *bytes.Buffer, *bytes.Reader and *strings.Reader bodies). The first
// response's body is drained and closed; a second 401 goes back to the caller
// as is. A service that refuses even a brand-new token gets no more new tokens
// for [ReplaceCooldown]: its 401s go back to the caller without a retry. Any other answer, including 401 without that challenge and 403, is
// passed through untouched.
//
// A Transport is safe for concurrent use if its Source and Base are.
type Transport struct {
	// Source supplies the tokens. Required.
	Source *TokenSource
	// Base sends the requests. Nil means [http.DefaultTransport].
	Base http.RoundTripper
}

func (t *Transport) base() http.RoundTripper {
	if t.Base != nil {
		return t.Base
	}
	return http.DefaultTransport
}

// RoundTrip implements [http.RoundTripper].
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	bodyOwned := req.Body != nil // we must close req.Body unless Base takes it
	defer func() {
		if bodyOwned {
			req.Body.Close()
		}
	}()
	if t.Source == nil {
		return nil, errors.New("m2mclient: Transport has no Source")
	}
	tok, err := t.Source.Token(req.Context())
	if err != nil {
		return nil, err
	}
	bodyOwned = false
	resp, err := t.base().RoundTrip(withToken(req, tok, req.Body))
	if err != nil || resp.StatusCode != http.StatusUnauthorized || !invalidTokenChallenge(resp.Header) {
		return resp, err
	}

	// The token is dead either way: the caller's own retry gets a new one.
	t.Source.Invalidate(tok.Value)
	body, replayable, err := replayBody(req)
	if err != nil {
		discard(resp)
		return nil, fmt.Errorf("m2mclient: replaying request body: %w", err)
	}
	if !replayable || req.Context().Err() != nil {
		if body != nil {
			body.Close()
		}
		return resp, nil
	}
	tok2, err := t.Source.Token(req.Context())
	if err != nil || tok2.Value == tok.Value {
		if body != nil {
			body.Close()
		}
		if err != nil {
			discard(resp)
			return nil, fmt.Errorf("m2mclient: refreshing the refused token: %w", err)
		}
		return resp, nil // nothing new to try
	}
	discard(resp)
	return t.base().RoundTrip(withToken(req, tok2, body))
}

// withToken returns a copy of req carrying tok and body. The copy's header map
// is new; the caller's request is left as it was.
func withToken(req *http.Request, tok *Token, body io.ReadCloser) *http.Request {
	r := new(http.Request)
	*r = *req
	r.Body = body
	h := make(http.Header, len(req.Header)+1)
	for k, v := range req.Header {
		h[k] = v // values are not modified, only the map is new
	}
	r.Header = h
	tok.SetAuthHeader(r)
	return r
}

// replayBody returns a fresh copy of req's body for a second attempt, and
// whether there can be one.
func replayBody(req *http.Request) (io.ReadCloser, bool, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return req.Body, true, nil
	}
	if req.GetBody == nil {
		return nil, false, nil
	}
	b, err := req.GetBody()
	if err != nil {
		return nil, false, err
	}
	return b, true, nil
}

// discard drains a little of resp's body and closes it.
func discard(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
	resp.Body.Close()
}
