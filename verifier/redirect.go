package verifier

import "net/http"

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
