package main

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/m2mauth/m2mauth/examples/internal/demotest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestRun serves the example on 127.0.0.1:0 and calls its two routes: with
// the embedded emulator, with a Clerk secret key, with a machine key, and
// configurations it must refuse.
func TestRun(t *testing.T) { demotest.CheckQuickStart(t, run) }
