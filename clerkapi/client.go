package clerkapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultBaseURL is the base URL of Clerk's Backend API.
const DefaultBaseURL = "https://api.clerk.com/v1"

// DefaultMaxResponseBytes is the largest response body a Client reads by default.
const DefaultMaxResponseBytes = 1 << 20

// DefaultUserAgent is the User-Agent a Client sends by default.
const DefaultUserAgent = "m2mauth-go/0.1"

// APIVersion is the version of Clerk's Backend API that this package speaks
// (the date of the OpenAPI spec its wire types follow). Every request of a
// Client carries it in the Clerk-API-Version header, as Clerk's JavaScript SDK
// (@clerk/backend 3.25, SUPPORTED_BAPI_VERSION) and Go SDK (clerk-sdk-go
// v2.7.0) send it, so that Clerk answers in this version's format.
const APIVersion = "2026-05-12"

// apiVersionHeader is the request header that names the API version.
const apiVersionHeader = "Clerk-API-Version"

var (
	// ErrResponseTooLarge is returned (wrapped) when a response body exceeds the
	// configured limit. The body is not read past the limit.
	ErrResponseTooLarge = errors.New("clerkapi: response body too large")

	// ErrMalformedResponse is returned (wrapped) when a 2xx body cannot be decoded.
	ErrMalformedResponse = errors.New("clerkapi: malformed response body")
)

// Client calls Clerk's Backend API with one secret key: a Clerk secret key
// (sk_…) or a machine secret key (ak_…). It is safe for concurrent use.
type Client struct {
	baseURL   string
	auth      string // "Bearer " + key; never printed
	hc        *http.Client
	userAgent string
	maxBody   int64
}

// An Option configures a Client.
type Option func(*Client) error

// WithBaseURL sets the API's base URL, e.g. an emulator's. Trailing slashes are
// trimmed.
//
// Default: [DefaultBaseURL].
func WithBaseURL(u string) Option {
	return func(c *Client) error {
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return fmt.Errorf("clerkapi: invalid base URL %q", u)
		}
		c.baseURL = strings.TrimRight(u, "/")
		return nil
	}
}

// WithHTTPClient sets the HTTP client used for every call. Timeouts are best set
// per call through the context.
//
// Default: a client with a 10 s overall timeout.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) error {
		if hc == nil {
			return errors.New("clerkapi: nil HTTP client")
		}
		c.hc = hc
		return nil
	}
}

// WithUserAgent sets the User-Agent header.
//
// Default: [DefaultUserAgent].
func WithUserAgent(ua string) Option {
	return func(c *Client) error {
		c.userAgent = ua
		return nil
	}
}

// WithMaxResponseBytes sets the largest response body the client reads; a larger
// body fails with [ErrResponseTooLarge] without being read into memory.
//
// Default: [DefaultMaxResponseBytes] (1 MiB).
func WithMaxResponseBytes(n int64) Option {
	return func(c *Client) error {
		if n <= 0 {
			return errors.New("clerkapi: max response bytes must be positive")
		}
		c.maxBody = n
		return nil
	}
}

// New returns a Client that authenticates with secretKey.
func New(secretKey string, opts ...Option) (*Client, error) {
	if secretKey == "" {
		return nil, errors.New("clerkapi: empty secret key")
	}
	if strings.ContainsAny(secretKey, " \t\r\n") {
		return nil, errors.New("clerkapi: secret key contains white space")
	}
	c := &Client{
		baseURL:   DefaultBaseURL,
		auth:      "Bearer " + secretKey,
		hc:        &http.Client{Timeout: 10 * time.Second},
		userAgent: DefaultUserAgent,
		maxBody:   DefaultMaxResponseBytes,
	}
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// BaseURL returns the base URL the client calls.
func (c *Client) BaseURL() string { return c.baseURL }

// do sends one request and decodes a 2xx JSON answer into out (when non-nil).
// in, when non-nil, is marshaled as the JSON body.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("clerkapi: encoding %s %s request: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	u := c.baseURL + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return fmt.Errorf("clerkapi: %s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", c.auth)
	req.Header.Set("Accept", "application/json")
	req.Header.Set(apiVersionHeader, APIVersion)
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("clerkapi: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()

	data, err := readLimited(resp.Body, c.maxBody)
	if err != nil {
		return fmt.Errorf("clerkapi: %s %s: status %d: %w", method, path, resp.StatusCode, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return newAPIError(resp, data)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("clerkapi: %s %s: %w: %v", method, path, ErrMalformedResponse, sanitizeJSONError(err))
	}
	return nil
}

// readLimited reads at most limit bytes; one byte more means the body is too large.
func readLimited(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, ErrResponseTooLarge
	}
	return data, nil
}

// sanitizeJSONError keeps the kind of a decoding error without any of the body's
// text, which could hold a token value.
func sanitizeJSONError(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("invalid JSON at offset %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("field %q: cannot decode JSON %s into %s", te.Field, te.Value, te.Type)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "unexpected end of JSON"
	default:
		return "invalid JSON"
	}
}
