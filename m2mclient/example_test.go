package m2mclient_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/m2mclient"
)

func ExampleNewClient() {
	clerk := clerktest.NewServer() // stands in for Clerk here
	defer clerk.Close()
	orders := clerk.CreateMachine("orders")
	billing := clerk.CreateMachine("billing", orders.ID) // billing may call orders

	// The orders service asks Clerk, with its own machine key, about each token.
	api, _ := clerkapi.New(orders.SecretKey, clerkapi.WithBaseURL(clerk.URL))
	svc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		m, err := api.VerifyToken(r.Context(), tok)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, "hello %s", m.Subject)
	}))
	defer svc.Close()

	// The billing machine's side.
	ts, err := m2mclient.NewTokenSource(billing.SecretKey,
		m2mclient.WithBaseURL(clerk.URL), // omit for Clerk itself
		m2mclient.WithLifetime(time.Hour))
	if err != nil {
		panic(err)
	}
	client := m2mclient.NewClient(ts, nil)
	for range 3 {
		resp, err := client.Get(svc.URL)
		if err != nil {
			panic(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(resp.Status, strings.Replace(string(body), billing.ID, "<billing>", 1))
	}
	fmt.Println("tokens created:", ts.Stats().Creates)
	// Output:
	// 200 OK hello <billing>
	// 200 OK hello <billing>
	// 200 OK hello <billing>
	// tokens created: 1
}

func ExampleTokenSource_Invalidate() {
	clerk := clerktest.NewServer()
	defer clerk.Close()
	m := clerk.CreateMachine("worker")
	ts, _ := m2mclient.NewTokenSource(m.SecretKey, m2mclient.WithBaseURL(clerk.URL))
	ctx := context.Background()

	first, _ := ts.Token(ctx)
	again, _ := ts.Token(ctx)
	fmt.Println("cached:", again == first)

	// A service refused the token (say it was revoked): drop it.
	fmt.Println("dropped:", ts.Invalidate(first.Value))
	fmt.Println("dropped twice:", ts.Invalidate(first.Value)) // stale: no second refresh
	next, _ := ts.Token(ctx)
	fmt.Println("new token:", next.ID != first.ID)
	// Output:
	// cached: true
	// dropped: true
	// dropped twice: false
	// new token: true
}
