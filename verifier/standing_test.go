package verifier_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/verifier"
)

// TestGoodStanding: what gives, keeps and ends a source's good standing, seen
// by the class its next miss is counted in (reserved or unreserved). A
// source gets in by a miss that ended with a valid token; cache hits and
// misses that ended in a failure of Clerk change nothing; a refused token
// ends it; so does StandingTTL without a valid token; at most MaxSources are
// kept, the oldest grant forgotten first; a miss without a source never has
// it.
func TestGoodStanding(t *testing.T) {
	const ttl = time.Hour
	e := newEnv(t)
	v := e.verifier(verifier.WithLimits(verifier.Limits{MaxSources: 2, StandingTTL: ttl, SourceRate: -1}))
	ctx := context.Background()
	valid := func() string { return e.token(clerkapi.CreateParams{}) }
	// class verifies tok from src and returns the class its call was counted in.
	class := func(step, src, tok string, want error) string {
		t.Helper()
		before := v.Stats()
		if _, err := v.Verify(ctx, tok, src); !errors.Is(err, want) {
			t.Fatalf("%s: got %v, want %v", step, err, want)
		}
		after := v.Stats()
		switch {
		case after.ReservedAdmissions > before.ReservedAdmissions:
			return "reserved"
		case after.UnreservedAdmissions > before.UnreservedAdmissions:
			return "unreserved"
		}
		return "none"
	}
	a, b, c := "192.0.2.1", "192.0.2.2", "192.0.2.3"
	hot := valid()
	steps := []struct {
		name, src, tok string
		want           error
		class          string
		standing       int // sources in good standing after the step
	}{
		{"a's first token", a, hot, nil, "unreserved", 1},
		{"a's token again: a hit", a, hot, nil, "none", 1},
		{"a's new token", a, valid(), nil, "reserved", 1},
		{"no source", "", valid(), nil, "unreserved", 1},
		{"b's first token", b, valid(), nil, "unreserved", 2},
		{"c's first token: a, the oldest grant, forgotten", c, valid(), nil, "unreserved", 2},
		{"a again: outside good standing, and back in", a, valid(), nil, "unreserved", 2},
		{"b: forgotten in turn", b, valid(), nil, "unreserved", 2},
		{"a: junk, on the reserved share", a, unknownToken(1), verifier.ErrInvalidToken, "reserved", 1},
		{"a: no longer in good standing", a, unknownToken(2), verifier.ErrInvalidToken, "unreserved", 1},
		{"b: a cached refusal changes nothing", b, unknownToken(1), verifier.ErrInvalidToken, "none", 1},
	}
	for _, s := range steps {
		if got := class(s.name, s.src, s.tok, s.want); got != s.class {
			t.Errorf("%s: counted %s, want %s", s.name, got, s.class)
		}
		if got := v.Stats().GoodStanding; got != s.standing {
			t.Errorf("%s: got %d sources in good standing, want %d", s.name, got, s.standing)
		}
	}

	// Clerk failing says nothing of b: it keeps its good standing.
	e.srv.InjectOn(clerktest.EndpointVerify, clerktest.FailNext(1, 503))
	if got := class("b, Clerk failing", b, valid(), verifier.ErrUnavailable); got != "reserved" {
		t.Errorf("b, Clerk failing: counted %s, want reserved", got)
	}
	e.clk.Advance(ttl - time.Second)
	if got := v.Stats().GoodStanding; got != 1 {
		t.Errorf("just before the TTL: got %d sources in good standing, want 1", got)
	}
	e.clk.Advance(time.Second)
	if got := v.Stats().GoodStanding; got != 0 {
		t.Errorf("after the TTL: got %d sources in good standing, want 0", got)
	}
	if got := class("b after the TTL", b, valid(), nil); got != "unreserved" {
		t.Errorf("b after the TTL: counted %s, want unreserved", got)
	}
}
