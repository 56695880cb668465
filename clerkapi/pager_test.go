package clerkapi_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
)

// pagerFixture is an emulator with one machine holding tokens, on a fake clock.
type pagerFixture struct {
	clock   *clerktest.Clock
	srv     *clerktest.Server
	machine *clerktest.Machine
	api     *clerkapi.Client // with the machine's own key
}

func newPagerFixture(t *testing.T) *pagerFixture {
	t.Helper()
	clock := clerktest.NewClock(time.Date(2026, 5, 12, 12, 0, 0, 0, time.UTC))
	srv := clerktest.NewServer(clerktest.WithClock(clock.Now))
	t.Cleanup(srv.Close)
	m := srv.CreateMachine("lister")
	api, err := clerkapi.New(m.SecretKey, clerkapi.WithBaseURL(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	return &pagerFixture{clock: clock, srv: srv, machine: m, api: api}
}

// mint creates n tokens living for ttl and returns their IDs.
func (f *pagerFixture) mint(t *testing.T, n int, ttl time.Duration) []string {
	t.Helper()
	var ids []string
	for range n {
		tok, err := f.srv.CreateToken(f.machine.ID, clerkapi.CreateParams{SecondsUntilExpiration: clerkapi.Int64(int64(ttl / time.Second))})
		if err != nil {
			t.Fatalf("CreateToken: %v", err)
		}
		ids = append(ids, tok.ID)
	}
	return ids
}

// collect runs AllTokens to the end and returns the IDs and the last error.
func collect(api *clerkapi.Client, p clerkapi.ListParams) ([]string, error) {
	var ids []string
	for tok, err := range api.AllTokens(context.Background(), p) {
		if err != nil {
			return ids, err
		}
		ids = append(ids, tok.ID)
	}
	return ids, nil
}

func TestAllTokens_Pages(t *testing.T) {
	for _, tc := range []struct {
		name      string
		limit     int
		offset    int
		wantItems int
		wantCalls int64
	}{
		{"limit 10", 10, 0, 25, 3},
		{"default page size", 0, 0, 25, 1},
		{"limit equals total", 25, 0, 25, 1},
		{"limit 1", 1, 0, 25, 25},
		{"from offset 20", 10, 20, 5, 1},
		{"offset past the end", 10, 30, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newPagerFixture(t)
			minted := f.mint(t, 25, time.Hour)
			p := clerkapi.ListParams{Subject: f.machine.ID, Limit: tc.limit, Offset: tc.offset}
			f.srv.ResetCalls()
			got, err := collect(f.api, p)
			if err != nil {
				t.Fatalf("AllTokens: %v", err)
			}
			if len(got) != tc.wantItems {
				t.Errorf("got %d tokens, want %d", len(got), tc.wantItems)
			}
			if calls := f.srv.Calls(clerktest.EndpointList); calls != tc.wantCalls {
				t.Errorf("list calls = %d, want %d", calls, tc.wantCalls)
			}
			for _, id := range got {
				if !slices.Contains(minted, id) {
					t.Errorf("listed %s, which was not minted", id)
				}
			}
			if sorted := slices.Compact(slices.Sorted(slices.Values(got))); len(sorted) != len(got) {
				t.Errorf("got %d tokens but only %d distinct: pages overlap", len(got), len(sorted))
			}
			page, err := f.api.ListTokens(context.Background(), clerkapi.ListParams{Subject: f.machine.ID})
			if err != nil {
				t.Fatal(err)
			}
			if tc.offset == 0 && int64(len(got)) != page.TotalCount {
				t.Errorf("iterated %d tokens, total_count says %d", len(got), page.TotalCount)
			}
		})
	}
}

func TestAllTokens_Filters(t *testing.T) {
	f := newPagerFixture(t)
	long := f.mint(t, 20, time.Hour)
	f.mint(t, 5, time.Minute)
	for _, id := range long[:4] {
		if err := f.srv.RevokeToken(id, "rotated"); err != nil {
			t.Fatal(err)
		}
	}
	f.clock.Advance(2 * time.Minute) // the five one-minute tokens expire

	for _, tc := range []struct {
		name             string
		revoked, expired *bool
		want             int
	}{
		{"live only (default)", nil, nil, 16},
		{"explicitly false", clerkapi.Bool(false), clerkapi.Bool(false), 16},
		{"with revoked", clerkapi.Bool(true), nil, 20},
		{"with expired", nil, clerkapi.Bool(true), 21},
		{"everything", clerkapi.Bool(true), clerkapi.Bool(true), 25},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := clerkapi.ListParams{Subject: f.machine.ID, Revoked: tc.revoked, Expired: tc.expired, Limit: 7}
			got, err := collect(f.api, p)
			if err != nil {
				t.Fatalf("AllTokens: %v", err)
			}
			if len(got) != tc.want {
				t.Errorf("got %d tokens, want %d", len(got), tc.want)
			}
			p.Limit = 1
			page, err := f.api.ListTokens(context.Background(), p)
			if err != nil {
				t.Fatal(err)
			}
			if int64(len(got)) != page.TotalCount {
				t.Errorf("iterated %d tokens, total_count says %d", len(got), page.TotalCount)
			}
		})
	}
}

func TestAllTokens_BreakStopsFetching(t *testing.T) {
	f := newPagerFixture(t)
	f.mint(t, 25, time.Hour)
	f.srv.ResetCalls()
	n := 0
	for _, err := range f.api.AllTokens(context.Background(), clerkapi.ListParams{Subject: f.machine.ID, Limit: 10}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if n == 12 {
			break
		}
	}
	if calls := f.srv.Calls(clerktest.EndpointList); calls != 2 {
		t.Errorf("list calls after breaking at item 12 of pages of 10 = %d, want 2", calls)
	}
}

func TestAllTokens_ErrorEndsIteration(t *testing.T) {
	f := newPagerFixture(t)
	f.mint(t, 25, time.Hour)
	var items, errs int
	var last error
	for tok, err := range f.api.AllTokens(context.Background(), clerkapi.ListParams{Subject: f.machine.ID, Limit: 10}) {
		if err != nil {
			errs++
			last = err
			continue // the iterator must end by itself
		}
		if tok == nil {
			t.Fatal("nil token without an error")
		}
		if items++; items == 10 { // the first page is done: fail the second
			f.srv.InjectOn(clerktest.EndpointList, clerktest.FailNext(1, http.StatusServiceUnavailable))
		}
	}
	var ae *clerkapi.APIError
	if items != 10 || errs != 1 || !errors.As(last, &ae) || ae.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("got %d items and %d errors (last %v), want 10 items then one wrapped 503 *APIError", items, errs, last)
	}
}

func TestAllTokens_BadParams(t *testing.T) {
	f := newPagerFixture(t)
	other := f.srv.CreateMachine("other")
	for _, tc := range []struct {
		name       string
		p          clerkapi.ListParams
		wantStatus int // 0: refused before any call
	}{
		{"limit over 100", clerkapi.ListParams{Subject: f.machine.ID, Limit: 101}, 0},
		{"negative limit", clerkapi.ListParams{Subject: f.machine.ID, Limit: -1}, 0},
		{"negative offset", clerkapi.ListParams{Subject: f.machine.ID, Offset: -1}, 0},
		{"no subject", clerkapi.ListParams{}, 0},
		{"another machine's tokens", clerkapi.ListParams{Subject: other.ID}, http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.srv.ResetCalls()
			got, err := collect(f.api, tc.p)
			if err == nil || len(got) != 0 {
				t.Fatalf("got %d tokens, error %v; want no tokens and an error", len(got), err)
			}
			var ae *clerkapi.APIError
			switch {
			case tc.wantStatus == 0 && f.srv.Calls(clerktest.EndpointList) != 0:
				t.Errorf("list calls = %d, want 0 for parameters refused locally", f.srv.Calls(clerktest.EndpointList))
			case tc.wantStatus != 0 && (!errors.As(err, &ae) || ae.StatusCode != tc.wantStatus):
				t.Errorf("error %v, want a wrapped *APIError with status %d", err, tc.wantStatus)
			}
		})
	}
}

func TestRevokeAll(t *testing.T) {
	f := newPagerFixture(t)
	live := f.mint(t, 12, time.Hour)
	old := f.mint(t, 3, time.Hour)
	for _, id := range old {
		if err := f.srv.RevokeToken(id, "earlier"); err != nil {
			t.Fatal(err)
		}
	}
	bystander := f.srv.CreateMachine("bystander")
	other, err := f.srv.CreateToken(bystander.ID, clerkapi.CreateParams{})
	if err != nil {
		t.Fatal(err)
	}

	revoked, err := f.api.RevokeAll(context.Background(), clerkapi.ListParams{Subject: f.machine.ID, Limit: 5}, "key leaked")
	if err != nil {
		t.Fatalf("RevokeAll: %v", err)
	}
	if len(revoked) != len(live) {
		t.Errorf("revoked %d tokens, want %d", len(revoked), len(live))
	}
	for _, tok := range revoked {
		if !tok.Revoked || tok.RevocationReason == nil || *tok.RevocationReason != "key leaked" || !slices.Contains(live, tok.ID) {
			t.Errorf("revoked %s: revoked=%v reason=%v, want a live token revoked with reason \"key leaked\"", tok.ID, tok.Revoked, tok.RevocationReason)
		}
	}
	if left, err := collect(f.api, clerkapi.ListParams{Subject: f.machine.ID}); err != nil || len(left) != 0 {
		t.Errorf("after RevokeAll: %d live tokens (err %v), want 0", len(left), err)
	}
	sk, err := clerkapi.New(f.srv.SecretKey, clerkapi.WithBaseURL(f.srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sk.VerifyToken(context.Background(), other.Token); err != nil {
		t.Errorf("another machine's token after RevokeAll: %v, want still valid", err)
	}
}

func ExampleClient_AllTokens() {
	clerk := clerktest.NewServer()
	defer clerk.Close()
	m := clerk.CreateMachine("batch")
	for range 3 {
		clerk.CreateToken(m.ID, clerkapi.CreateParams{})
	}
	// A machine key may list and revoke its own machine's tokens; a Clerk
	// secret key (sk_…) those of any machine.
	api, _ := clerkapi.New(m.SecretKey, clerkapi.WithBaseURL(clerk.URL))
	ctx := context.Background()

	live := 0
	for _, err := range api.AllTokens(ctx, clerkapi.ListParams{Subject: m.ID}) {
		if err != nil {
			panic(err)
		}
		live++
	}
	fmt.Println("live tokens:", live)

	revoked, err := api.RevokeAll(ctx, clerkapi.ListParams{Subject: m.ID}, "key rotated")
	if err != nil {
		panic(err)
	}
	fmt.Println("revoked:", len(revoked), *revoked[0].RevocationReason)
	// Output:
	// live tokens: 3
	// revoked: 3 key rotated
}
