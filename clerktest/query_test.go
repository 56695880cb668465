package clerktest

import (
	"slices"
	"testing"
	"time"
)

// TestPage checks the ordering and paging every list endpoint shares: by
// created_at or name, ascending or descending (ties newest first), then
// offset and limit.
func TestPage(t *testing.T) {
	type item struct {
		name    string
		created time.Time
	}
	t0 := time.Unix(1_700_000_000, 0)
	all := []item{ // creation order; b and c created at the same instant
		{"delta", t0}, {"bravo", t0.Add(time.Second)}, {"charlie", t0.Add(time.Second)}, {"alpha", t0.Add(2 * time.Second)},
	}
	for _, c := range []struct {
		query string
		want  []string
	}{
		{"", []string{"alpha", "charlie", "bravo", "delta"}}, // -created_at by default, ties newest first
		{"order_by=created_at", []string{"delta", "bravo", "charlie", "alpha"}},
		{"order_by=%2Bcreated_at", []string{"delta", "bravo", "charlie", "alpha"}},
		{"order_by=name", []string{"alpha", "bravo", "charlie", "delta"}},
		{"order_by=-name", []string{"delta", "charlie", "bravo", "alpha"}},
		{"order_by=name&limit=2&offset=1", []string{"bravo", "charlie"}},
		{"order_by=name&offset=3", []string{"delta"}},
		{"offset=4", nil},
		{"offset=400", nil},
	} {
		vals, e := parseQuery(c.query)
		if e != nil {
			t.Fatalf("%s: %v", c.query, e)
		}
		p, e := parseListParams(vals)
		if e != nil {
			t.Fatalf("%s: %v", c.query, e)
		}
		var got []string
		for _, it := range page(slices.Clone(all), p, func(i item) time.Time { return i.created }, func(i item) string { return i.name }) {
			got = append(got, it.name)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.query, got, c.want)
		}
	}
	for _, q := range []string{"limit=0", "limit=501", "offset=-1", "order_by=id", "order_by="} {
		vals, _ := parseQuery(q)
		if _, e := parseListParams(vals); e == nil {
			t.Errorf("%s: no error, want Clerk's 400", q)
		}
	}
}
