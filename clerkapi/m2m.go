package clerkapi

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
)

// TokenIDPattern is the shape of an M2M token ID.
var TokenIDPattern = regexp.MustCompile(`^mt_[0-9A-Fa-f]{32}$`)

// MachineIDPattern is the shape of a machine ID.
var MachineIDPattern = regexp.MustCompile(`^mch_\w{27}$`)

// CreateToken mints an M2M token for the machine whose secret key (ak_…) the
// client holds: POST /m2m_tokens. The returned token carries its secret value in
// Token.
func (c *Client) CreateToken(ctx context.Context, p CreateParams) (*M2MToken, error) {
	var t M2MToken
	if err := c.do(ctx, http.MethodPost, "/m2m_tokens", nil, p, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// ListTokens returns one page of a machine's opaque M2M tokens: GET /m2m_tokens.
func (c *Client) ListTokens(ctx context.Context, p ListParams) (*M2MTokenList, error) {
	if !MachineIDPattern.MatchString(p.Subject) {
		return nil, errors.New("clerkapi: list tokens: subject must be a machine ID (mch_…)")
	}
	q := url.Values{"subject": {p.Subject}}
	if p.Revoked != nil {
		q.Set("revoked", strconv.FormatBool(*p.Revoked))
	}
	if p.Expired != nil {
		q.Set("expired", strconv.FormatBool(*p.Expired))
	}
	if p.Limit != 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	if p.Offset != 0 {
		q.Set("offset", strconv.Itoa(p.Offset))
	}
	var l M2MTokenList
	if err := c.do(ctx, http.MethodGet, "/m2m_tokens", q, nil, &l); err != nil {
		return nil, err
	}
	return &l, nil
}

// RevokeToken revokes an opaque M2M token by ID: POST /m2m_tokens/{id}/revoke.
// An empty reason is sent as null.
func (c *Client) RevokeToken(ctx context.Context, tokenID, reason string) (*M2MToken, error) {
	if !TokenIDPattern.MatchString(tokenID) {
		return nil, errors.New("clerkapi: revoke token: not an M2M token ID (mt_ + 32 hex)")
	}
	var p RevokeParams
	if reason != "" {
		p.RevocationReason = &reason
	}
	var t M2MToken
	if err := c.do(ctx, http.MethodPost, "/m2m_tokens/"+tokenID+"/revoke", nil, p, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// VerifyToken asks Clerk whether token is a valid M2M token:
// POST /m2m_tokens/verify. Clerk answers 404 (an *APIError) for an unknown,
// revoked, expired or, with a machine secret key, unscoped token. Callers should
// still check Revoked, Expired and Expiration of a 200 answer.
func (c *Client) VerifyToken(ctx context.Context, token string) (*M2MToken, error) {
	var t M2MToken
	if err := c.do(ctx, http.MethodPost, "/m2m_tokens/verify", nil, VerifyParams{Token: token}, &t); err != nil {
		return nil, err
	}
	return &t, nil
}
