package clerktest_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
)

// A caller machine mints a token; the receiver it is scoped to verifies it,
// an unrelated machine cannot.
func ExampleNewServer() {
	clock := clerktest.NewClock(time.Date(2026, 5, 12, 12, 0, 0, 0, time.UTC))
	srv := clerktest.NewServer(clerktest.WithClock(clock.Now))
	defer srv.Close()
	receiver := srv.CreateMachine("receiver")
	caller := srv.CreateMachine("caller", receiver.ID)
	other := srv.CreateMachine("other")

	ctx := context.Background()
	asCaller, _ := clerkapi.New(caller.SecretKey, clerkapi.WithBaseURL(srv.URL))
	tok, err := asCaller.CreateToken(ctx, clerkapi.CreateParams{SecondsUntilExpiration: clerkapi.Int64(60)})
	if err != nil {
		fmt.Println(err)
		return
	}
	asReceiver, _ := clerkapi.New(receiver.SecretKey, clerkapi.WithBaseURL(srv.URL))
	v, err := asReceiver.VerifyToken(ctx, tok.Token)
	fmt.Println("receiver:", err == nil, v.Subject == caller.ID, v.Expiration.Sub(clock.Now()))

	asOther, _ := clerkapi.New(other.SecretKey, clerkapi.WithBaseURL(srv.URL))
	_, err = asOther.VerifyToken(ctx, tok.Token)
	var ae *clerkapi.APIError
	fmt.Println("other:", errors.As(err, &ae) && ae.StatusCode == 404)

	clock.Advance(time.Minute)
	_, err = asReceiver.VerifyToken(ctx, tok.Token)
	fmt.Println("after expiry:", errors.As(err, &ae) && ae.StatusCode == 404)
	fmt.Println("verify calls:", srv.Calls(clerktest.EndpointVerify))
	// Output:
	// receiver: true true 1m0s
	// other: true
	// after expiry: true
	// verify calls: 3
}

// Faults make Clerk misbehave on purpose: here the next verify answers 503,
// then the service recovers.
func ExampleServer_InjectOn() {
	srv := clerktest.NewServer()
	defer srv.Close()
	receiver := srv.CreateMachine("receiver")
	tok, _ := srv.CreateToken(srv.CreateMachine("caller", receiver.ID).ID, clerkapi.CreateParams{})
	api, _ := clerkapi.New(receiver.SecretKey, clerkapi.WithBaseURL(srv.URL))

	srv.InjectOn(clerktest.EndpointVerify, clerktest.FailNext(1, 503))
	_, err := api.VerifyToken(context.Background(), tok.Token)
	var ae *clerkapi.APIError
	fmt.Println(errors.As(err, &ae), ae.StatusCode)
	_, err = api.VerifyToken(context.Background(), tok.Token)
	fmt.Println(err)
	// Output:
	// true 503
	// <nil>
}

// A Gate holds requests until the test releases them: here two verify calls
// meet at the emulator before either is answered, with no sleep.
func ExampleGate() {
	srv := clerktest.NewServer()
	defer srv.Close()
	receiver := srv.CreateMachine("receiver")
	tok, _ := srv.CreateToken(srv.CreateMachine("caller", receiver.ID).ID, clerkapi.CreateParams{})
	api, _ := clerkapi.New(receiver.SecretKey, clerkapi.WithBaseURL(srv.URL))

	gate := clerktest.NewGate()
	srv.InjectOn(clerktest.EndpointVerify, gate)
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := api.VerifyToken(context.Background(), tok.Token)
			errs <- err
		}()
	}
	<-gate.Arrived(2) // both requests are held at the emulator
	fmt.Println("held:", gate.Count(), "answered:", len(errs))
	gate.Release()
	fmt.Println(<-errs, <-errs)
	// Output:
	// held: 2 answered: 0
	// <nil> <nil>
}
