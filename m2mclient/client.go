package m2mclient

import (
	"errors"
	"net/http"
)

// NewClient returns an HTTP client whose requests carry tokens from ts, sent
// through base (nil: [http.DefaultTransport]); see [Transport].
//
// The client does not follow a redirect to another scheme or host: the
// Transport would send the token there too. Such a redirect response is
// returned to the caller instead (with its body open, as usual). Redirects
// within the same origin are followed, at most 10.
func NewClient(ts *TokenSource, base http.RoundTripper) *http.Client {
	return &http.Client{
		Transport:     &Transport{Source: ts, Base: base},
		CheckRedirect: sameOriginRedirects,
	}
}

// Client is NewClient(s, nil).
func (s *TokenSource) Client() *http.Client { return NewClient(s, nil) }

func sameOriginRedirects(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("m2mclient: stopped after 10 redirects")
	}
	first := via[0].URL
	if req.URL.Scheme != first.Scheme || req.URL.Host != first.Host {
		return http.ErrUseLastResponse
	}
	return nil
}
