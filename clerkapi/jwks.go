package clerkapi

import (
	"context"
	"net/http"
)

// JWKS is a JSON Web Key Set as GET /jwks returns it.
type JWKS struct {
	Keys []JWK `json:"keys"`
}

// JWK is one public key of a JWKS. Only the fields of the key's type are set.
type JWK struct {
	Use string `json:"use,omitempty"`
	Kty string `json:"kty"`
	Kid string `json:"kid,omitempty"`
	Alg string `json:"alg,omitempty"`
	N   string `json:"n,omitempty"`   // RSA modulus, base64url
	E   string `json:"e,omitempty"`   // RSA exponent, base64url
	Crv string `json:"crv,omitempty"` // EC / OKP curve
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
}

// JWKS fetches the instance's public keys: GET /jwks. It needs a Clerk secret key.
func (c *Client) JWKS(ctx context.Context) (*JWKS, error) {
	var s JWKS
	if err := c.do(ctx, http.MethodGet, "/jwks", nil, nil, &s); err != nil {
		return nil, err
	}
	return &s, nil
}
