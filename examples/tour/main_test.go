package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestTour runs the whole tour: every step asserts its status and its number
// of verify calls, so a regression anywhere in the stack fails here.
func TestTour(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out); err != nil {
		t.Fatalf("tour failed: %v\n%s", err, out.String())
	}
	if got := strings.Count(out.String(), "[ok]"); got != 17 {
		t.Fatalf("got %d ok steps, want 17:\n%s", got, out.String())
	}
}
