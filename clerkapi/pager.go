package clerkapi

import (
	"context"
	"errors"
	"fmt"
	"iter"
)

// DefaultPageSize is the page size AllTokens asks for when ListParams.Limit is 0.
const DefaultPageSize = 100

// maxPageSize is the largest limit Clerk accepts.
const maxPageSize = 100

// AllTokens iterates over all of a machine's opaque M2M tokens matching p,
// fetching page after page (GET /m2m_tokens) as the loop asks for more.
// p.Limit is the page size (1–100; 0 means [DefaultPageSize]); p.Offset is
// where to start; p.Revoked and p.Expired filter as in [Client.ListTokens].
//
// A failed page ends the iteration with the error (a wrapped [*APIError] for
// Clerk's answers) as the last pair; breaking out of the loop stops fetching.
// The iteration also ends when a page is short or empty, or total_count is
// reached.
//
// Pages are fetched by offset, so tokens created or revoked while iterating
// may shift what later pages hold: to revoke the tokens you list, collect
// their IDs first (as [Client.RevokeAll] does) rather than revoking inside the
// loop.
//
//	for tok, err := range client.AllTokens(ctx, clerkapi.ListParams{Subject: machineID}) {
//		if err != nil {
//			return err
//		}
//		fmt.Println(tok.ID, tok.Expiration)
//	}
func (c *Client) AllTokens(ctx context.Context, p ListParams) iter.Seq2[*M2MToken, error] {
	return func(yield func(*M2MToken, error) bool) {
		switch {
		case p.Limit < 0 || p.Limit > maxPageSize:
			yield(nil, fmt.Errorf("clerkapi: list tokens: limit %d is not within 1–%d", p.Limit, maxPageSize))
			return
		case p.Offset < 0:
			yield(nil, errors.New("clerkapi: list tokens: negative offset"))
			return
		case p.Limit == 0:
			p.Limit = DefaultPageSize
		}
		for {
			page, err := c.ListTokens(ctx, p)
			if err != nil {
				yield(nil, fmt.Errorf("clerkapi: list tokens at offset %d: %w", p.Offset, err))
				return
			}
			for _, t := range page.M2MTokens {
				if t == nil {
					continue
				}
				if !yield(t, nil) {
					return
				}
			}
			n := len(page.M2MTokens)
			p.Offset += n
			if n < p.Limit || int64(p.Offset) >= page.TotalCount {
				return
			}
		}
	}
}

// RevokeAll revokes every token of a machine that matches p (by default its
// live tokens: neither revoked nor expired) with reason, which may be empty. It
// lists them all first and then revokes them one by one, so the listing is not
// disturbed by its own revocations. It returns the tokens it revoked, as Clerk
// answered, and stops at the first error. JWT tokens are not listed and cannot
// be revoked.
//
// Services that verify with a caching verifier keep accepting a revoked token
// until their cache entry expires; see verifier.Verifier.InvalidateID.
func (c *Client) RevokeAll(ctx context.Context, p ListParams, reason string) ([]*M2MToken, error) {
	var ids []string
	for t, err := range c.AllTokens(ctx, p) {
		if err != nil {
			return nil, err
		}
		if !t.Revoked {
			ids = append(ids, t.ID)
		}
	}
	revoked := make([]*M2MToken, 0, len(ids))
	for _, id := range ids {
		t, err := c.RevokeToken(ctx, id, reason)
		if err != nil {
			return revoked, fmt.Errorf("clerkapi: revoking %s (%d of %d): %w", id, len(revoked)+1, len(ids), err)
		}
		revoked = append(revoked, t)
	}
	return revoked, nil
}
