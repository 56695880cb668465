package verifier_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/verifier"
)

func Example() {
	// An emulated Clerk instance: the billing machine may call orders.
	srv := clerktest.NewServer()
	defer srv.Close()
	orders := srv.CreateMachine("orders")
	billing := srv.CreateMachine("billing", orders.ID)
	minted, err := srv.CreateToken(billing.ID, clerkapi.CreateParams{Claims: map[string]string{"team": "payments"}})
	if err != nil {
		panic(err)
	}

	// The orders service verifies inbound tokens with the instance's secret key.
	v, err := verifier.New(srv.SecretKey, verifier.WithBaseURL(srv.URL))
	if err != nil {
		panic(err)
	}
	defer v.Close()

	ctx := context.Background()
	tok, err := v.Verify(ctx, minted.Token, "")
	if err != nil {
		panic(err)
	}
	fmt.Println("from billing:", tok.Subject == billing.ID)
	fmt.Println("may call orders:", tok.HasScope(orders.ID))
	fmt.Println("format:", tok.Format)
	fmt.Println("claims:", string(tok.Claims))

	_, err = v.Verify(ctx, "mt_00000000000000000000000000000000", "")
	fmt.Println("unknown token invalid:", errors.Is(err, verifier.ErrInvalidToken))

	// The first Verify asked Clerk; a second one is a cache hit.
	_, _ = v.Verify(ctx, minted.Token, "")
	st := v.Stats()
	fmt.Println("calls to Clerk:", srv.Calls(clerktest.EndpointVerify), "hits:", st.Hits)
	// Output:
	// from billing: true
	// may call orders: true
	// format: opaque
	// claims: {"team":"payments"}
	// unknown token invalid: true
	// calls to Clerk: 2 hits: 1
}

// Example_jwt: with a Clerk secret key, a JWT-format token is verified
// against the instance's JWKS, without Clerk's verify endpoint.
func Example_jwt() {
	srv := clerktest.NewServer()
	defer srv.Close()
	orders := srv.CreateMachine("orders")
	billing := srv.CreateMachine("billing", orders.ID)
	minted, err := srv.CreateToken(billing.ID, clerkapi.CreateParams{
		TokenFormat: clerkapi.FormatJWT, Claims: map[string]string{"team": "payments"}})
	if err != nil {
		panic(err)
	}

	v, err := verifier.New(srv.SecretKey, verifier.WithBaseURL(srv.URL))
	if err != nil {
		panic(err)
	}
	defer v.Close()

	tok, err := v.Verify(context.Background(), minted.Token, "")
	if err != nil {
		panic(err)
	}
	// Clerk did not check the scopes: the receiver does.
	fmt.Println("format:", tok.Format, "may call orders:", tok.HasScope(orders.ID))
	fmt.Println("claims:", string(tok.Claims))
	fmt.Println("verify calls:", srv.Calls(clerktest.EndpointVerify), "JWKS calls:", srv.Calls(clerktest.EndpointJWKS))
	// Output:
	// format: jwt may call orders: true
	// claims: {"team":"payments"}
	// verify calls: 0 JWKS calls: 1
}
