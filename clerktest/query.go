package clerktest

import (
	"cmp"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// parseQuery parses a request's raw query string; a malformed one is Clerk's
// 400 bad_request.
func parseQuery(raw string) (url.Values, *apiError) {
	vals, err := url.ParseQuery(raw)
	if err != nil {
		return nil, errURLParam("query_parameter", "query", "malformed query string")
	}
	return vals, nil
}

// intParam reads the query parameter name into *dst when it is present (an
// empty value included): a whole number within [lo, hi]. decimal also takes
// the decimal form of a whole number ("10.0"), for parameters that the spec
// types as number rather than integer.
func intParam(vals url.Values, name string, lo, hi int64, decimal bool, dst *int) *apiError {
	if !vals.Has(name) {
		return nil
	}
	v := vals.Get(name)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil && decimal {
		f, ferr := strconv.ParseFloat(v, 64)
		if ferr == nil && f == math.Trunc(f) && f >= math.MinInt64 && f <= math.MaxInt64 {
			n, err = int64(f), nil
		}
	}
	if err != nil || n < lo || n > hi {
		return errURLParam("query_parameter", name, fmt.Sprintf("Must be an integer between %d and %d", lo, hi))
	}
	*dst = int(n)
	return nil
}

// orderParam reads order_by (def when absent): one of fields, optionally
// prefixed by + or - (a raw "+" in a query string decodes to a space). It
// returns the field and whether the order is descending.
func orderParam(vals url.Values, def string, fields ...string) (string, bool, *apiError) {
	orderBy := def
	if vals.Has("order_by") {
		orderBy = vals.Get("order_by")
	}
	field := strings.TrimLeft(orderBy, "+- ")
	if !slices.Contains(fields, field) {
		return "", false, errURLParam("query_parameter", "order_by",
			"Must be one of "+strings.Join(fields, ", ")+", optionally prefixed by + or -")
	}
	return field, strings.HasPrefix(orderBy, "-"), nil
}

// listParams are the paging and ordering parameters of a list endpoint
// (limit 1–500, default 10; offset; order_by name or created_at, default
// -created_at).
type listParams struct {
	limit, offset int
	field         string // "name" or "created_at"
	desc          bool
}

// parseListParams reads the list parameters of vals.
func parseListParams(vals url.Values) (listParams, *apiError) {
	p := listParams{limit: 10}
	e := cmp.Or(intParam(vals, "limit", 1, 500, false, &p.limit), intParam(vals, "offset", 0, math.MaxInt32, false, &p.offset))
	if e == nil {
		p.field, p.desc, e = orderParam(vals, "-created_at", "name", "created_at")
	}
	return p, e
}

// page orders items (given in creation order) by p's field, ties newest
// first when descending, and returns the page p asks for.
func page[T any](items []T, p listParams, created func(T) time.Time, name func(T) string) []T {
	if p.desc {
		slices.Reverse(items) // ties: newest first
	}
	slices.SortStableFunc(items, func(a, b T) int {
		c := created(a).Compare(created(b))
		if p.field == "name" {
			c = strings.Compare(name(a), name(b))
		}
		if p.desc {
			return -c
		}
		return c
	})
	if p.offset >= len(items) {
		return nil
	}
	return items[p.offset:min(len(items), p.offset+p.limit)]
}
