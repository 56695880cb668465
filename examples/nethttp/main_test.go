package main

import (
	"context"
	"io"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/m2mauth/m2mauth/examples/internal/demotest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestRun serves the example on 127.0.0.1:0 and calls its routes: with the
// embedded emulator, with a Clerk secret key, with a machine key, and
// configurations it must refuse.
func TestRun(t *testing.T) { demotest.Check(t, run) }

// A call budget that does not parse stops the example before it serves.
func TestRunBadCallBudget(t *testing.T) {
	for _, kv := range [][2]string{{"M2M_CALL_RATE", "fast"}, {"M2M_CALL_RATE", "-1"}, {"M2M_CALL_BURST", "1.5"}} {
		env := map[string]string{"ADDR": "127.0.0.1:0", kv[0]: kv[1]}
		err := run(context.Background(), func(k string) string { return env[k] }, io.Discard)
		if err == nil || !strings.Contains(err.Error(), kv[0]) {
			t.Errorf("%s=%s: got %v, want it refused", kv[0], kv[1], err)
		}
	}
}

// A REDIS_URL that does not parse stops the example before it serves.
func TestRunBadRedisURL(t *testing.T) {
	env := map[string]string{"ADDR": "127.0.0.1:0", "REDIS_URL": "http://127.0.0.1:6379/0"}
	err := run(context.Background(), func(k string) string { return env[k] }, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "Redis URL") {
		t.Fatalf("got %v, want the Redis URL refused", err)
	}
}
