package main

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/m2mauth/m2mauth/examples/internal/demotest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRun(t *testing.T) { demotest.Check(t, handler) }
