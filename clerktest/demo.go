package clerktest

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/m2mauth/m2mauth/clerkapi"
)

// demoTokenTTL is the lifetime of the token StartDemo mints, in seconds.
const demoTokenTTL = 3600

// A Demo is an emulator set up for trying out a protected service without a
// Clerk account: the service is the Receiver machine, the Caller machine is
// scoped to it, and Token is a ready token of the Caller. The embedded
// *Server gives the base URL (URL), the instance's secret key (SecretKey,
// sk_test_…) and Close.
type Demo struct {
	*Server
	// Receiver is the protected service's machine: its ID is the audience
	// to require (middleware.WithAudience), its SecretKey (ak_…) a machine
	// key to verify with instead of the instance's key.
	Receiver *Machine
	// Caller is the calling machine, scoped to Receiver.
	Caller *Machine
	// Token is an opaque token (mt_…) of Caller, valid for one hour, with
	// the claims given to StartDemo.
	Token string
}

// StartDemo starts an emulator on a loopback listener, creates the Receiver
// and Caller machines, mints Token with claims (nil for none, else any value
// encoding/json encodes, e.g. map[string]string{"role": "reporter"}) and
// prints to w (nil: nowhere) the emulator's URL, both
// machine IDs and the token, one per line. It never prints a secret key.
// Call Close when done.
//
// It is meant for examples and manual tests: the token is printed so that it
// can be pasted into curl.
func StartDemo(w io.Writer, claims any) (*Demo, error) {
	var shown []byte
	if claims != nil {
		b, err := json.Marshal(claims)
		if err != nil {
			return nil, fmt.Errorf("clerktest: StartDemo: encoding claims: %w", err)
		}
		shown = b
	}
	s := NewServer()
	d := &Demo{Server: s}
	d.Receiver = s.CreateMachine("demo-receiver")
	d.Caller = s.CreateMachine("demo-caller", d.Receiver.ID)
	tok, err := s.CreateToken(d.Caller.ID, clerkapi.CreateParams{
		Claims:                 claims,
		SecondsUntilExpiration: clerkapi.Int64(demoTokenTTL),
	})
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("clerktest: StartDemo: %w", err)
	}
	d.Token = tok.Token
	if w != nil {
		if shown == nil {
			shown = []byte("no claims")
		}
		fmt.Fprintf(w, "Clerk emulator (in-process): %s\n", s.URL)
		fmt.Fprintf(w, "  receiver machine (this service, the audience): %s\n", d.Receiver.ID)
		fmt.Fprintf(w, "  caller machine (scoped to the receiver):       %s\n", d.Caller.ID)
		fmt.Fprintf(w, "  the caller's token (%s, 1h):  %s\n", shown, d.Token)
	}
	return d, nil
}
