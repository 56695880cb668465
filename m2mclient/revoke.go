package m2mclient

import (
	"context"

	"github.com/m2mauth/m2mauth/clerkapi"
)

// A Forgetter forgets a token by ID: a *verifier.Verifier (with
// verifier.WithSharedCache, on every replica sharing its Redis) or anything
// else that caches verification results.
type Forgetter interface {
	InvalidateID(tokenID string)
}

// Revoke revokes the opaque token tokenID at Clerk with api (reason may be
// empty) and, once Clerk has confirmed, makes every forget drop it, so that
// "revoke at Clerk" and "refuse it now" are one call. When Clerk refuses, no
// Forgetter is called.
func Revoke(ctx context.Context, api *clerkapi.Client, tokenID, reason string, forget ...Forgetter) (*clerkapi.M2MToken, error) {
	m, err := api.RevokeToken(ctx, tokenID, reason)
	if err != nil {
		return nil, err
	}
	for _, f := range forget {
		f.InvalidateID(m.ID)
	}
	return m, nil
}

// RevokeAll revokes every live opaque token that p lists (see
// clerkapi.Client.RevokeAll) and makes every forget drop each token Clerk
// revoked, those revoked before an error included.
func RevokeAll(ctx context.Context, api *clerkapi.Client, p clerkapi.ListParams, reason string, forget ...Forgetter) ([]*clerkapi.M2MToken, error) {
	ms, err := api.RevokeAll(ctx, p, reason)
	for _, m := range ms {
		for _, f := range forget {
			f.InvalidateID(m.ID)
		}
	}
	return ms, err
}
