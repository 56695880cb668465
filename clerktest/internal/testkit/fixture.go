package testkit

import (
	"testing"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
)

// T0 is the fixtures' start time.
var T0 = time.Date(2026, 5, 12, 10, 0, 0, 0, time.UTC)

// Fixture is an emulator on a Clock started at T0, with a receiver, a caller
// scoped to it and an unscoped machine (the loner), plus a clerkapi client for
// each key.
type Fixture struct {
	Srv                     *clerktest.Server
	Clock                   *clerktest.Clock
	Receiver, Caller, Loner *clerktest.Machine
	Admin, AsCaller, AsRecv *clerkapi.Client
	AsLoner                 *clerkapi.Client
}

// NewFixture starts a Fixture, closed when t ends.
func NewFixture(t *testing.T) *Fixture {
	t.Helper()
	f := &Fixture{Clock: clerktest.NewClock(T0)}
	f.Srv = clerktest.NewServer(clerktest.WithClock(f.Clock.Now))
	t.Cleanup(f.Srv.Close)
	f.Receiver = f.Srv.CreateMachine("receiver")
	f.Caller = f.Srv.CreateMachine("caller", f.Receiver.ID)
	f.Loner = f.Srv.CreateMachine("loner")
	f.Admin = NewClient(t, f.Srv, f.Srv.SecretKey)
	f.AsCaller = NewClient(t, f.Srv, f.Caller.SecretKey)
	f.AsRecv = NewClient(t, f.Srv, f.Receiver.SecretKey)
	f.AsLoner = NewClient(t, f.Srv, f.Loner.SecretKey)
	return f
}

// NewClient returns a clerkapi client of srv with key.
func NewClient(t *testing.T, srv *clerktest.Server, key string) *clerkapi.Client {
	t.Helper()
	c, err := clerkapi.New(key, clerkapi.WithBaseURL(srv.URL))
	if err != nil {
		t.Fatalf("clerkapi.New: %v", err)
	}
	return c
}

// MustCreate mints a token of machineID on srv, or fails t.
func MustCreate(t *testing.T, srv *clerktest.Server, machineID string, p clerkapi.CreateParams) *clerkapi.M2MToken {
	t.Helper()
	tok, err := srv.CreateToken(machineID, p)
	if err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	return tok
}
