package series

import "github.com/m2mauth/m2mauth/verifier"

// Prefix starts every metric's name.
const Prefix = "m2mauth"

// Kind is how a series' values move.
type Kind int

const (
	Counter Kind = iota // only goes up, from New
	Gauge               // a level now
)

// A Series is one metric read from Stats: one value per label value (one
// value with no label when Label is empty).
type Series struct {
	Name  string // the base name, e.g. "cache_hits": m2mprom adds Prefix+"_" and "_total" for counters
	Help  string
	Kind  Kind
	Label string // the label's name, or empty
	Read  func(s *verifier.Stats) []Value
}

// A Value is one of a series' values, with its label value ("" with no label).
type Value struct {
	Label string
	V     float64
}

func one(f func(s *verifier.Stats) uint64) func(s *verifier.Stats) []Value {
	return func(s *verifier.Stats) []Value { return []Value{{V: float64(f(s))}} }
}

// Breaker states, as Stats.BreakerState gives them.
var breakerStates = []string{"closed", "open", "half-open", "off"}

// All is every series, in a stable order.
var All = []Series{
	{"cache_hits", "Verifications answered from a positive cache entry.", Counter, "",
		one(func(s *verifier.Stats) uint64 { return s.Hits })},
	{"cache_negative_hits", "Verifications answered from a negative cache entry (a token Clerk refused).", Counter, "",
		one(func(s *verifier.Stats) uint64 { return s.NegativeHits })},
	{"cache_misses", "Verifications that found no live cache entry.", Counter, "",
		one(func(s *verifier.Stats) uint64 { return s.Misses })},
	{"shared_waits", "Misses answered by another caller's call to Clerk (singleflight).", Counter, "",
		one(func(s *verifier.Stats) uint64 { return s.SharedWaits })},
	{"upstream_requests", "HTTP requests to Clerk, retries and readiness probes included, by endpoint.", Counter, "endpoint",
		func(s *verifier.Stats) []Value {
			return []Value{{"verify", float64(s.UpstreamCalls)}, {"jwks", float64(s.JWKSFetches)}}
		}},
	{"upstream_retries", "Quick retries of the verify call after a connection failure.", Counter, "",
		one(func(s *verifier.Stats) uint64 { return s.Retries })},
	{"local_jwt_checks", "JWT-format tokens verified locally against the JWKS (one per cold token).", Counter, "",
		one(func(s *verifier.Stats) uint64 { return s.LocalJWTChecks })},
	{"verify_errors", "Errors returned by Verify, by reason: invalid, unavailable, misconfigured, rate_limited (a source over its budget), canceled.", Counter, "reason",
		func(s *verifier.Stats) []Value {
			return []Value{
				{"invalid", float64(s.Invalid)},
				{"unavailable", float64(s.Unavailable)},
				{"misconfigured", float64(s.Misconfigured)},
				{"rate_limited", float64(s.RateLimited)},
				{"canceled", float64(s.Canceled)},
			}
		}},
	{"admission_refusals", "Misses refused without a call to Clerk, by reason: backoff (Clerk asked to wait), overload, breaker, source_budget.", Counter, "reason",
		func(s *verifier.Stats) []Value {
			return []Value{
				{"backoff", float64(s.BackoffRefusals)},
				{"overload", float64(s.OverloadRefusals)},
				{"breaker", float64(s.BreakerRefusals)},
				{"source_budget", float64(s.RateLimited)},
			}
		}},
	{"admissions", "Calls to Clerk's verify endpoint admitted by the overall budget, by share: reserved (sources in good standing, refills, refreshes), unreserved (any other source).", Counter, "share",
		func(s *verifier.Stats) []Value {
			return []Value{{"reserved", float64(s.ReservedAdmissions)}, {"unreserved", float64(s.UnreservedAdmissions)}}
		}},
	{"budget_refusals", "Calls refused by the overall budget without a call, by the share they were entitled to: reserved, unreserved (not the source's turn).", Counter, "share",
		func(s *verifier.Stats) []Value {
			return []Value{{"reserved", float64(s.ReservedRefusals)}, {"unreserved", float64(s.UnreservedRefusals)}}
		}},
	{"refills", "Calls admitted for tokens that were valid before the shared cache's re-subscription, charged to no source.", Counter, "",
		one(func(s *verifier.Stats) uint64 { return s.Refills })},
	{"refreshes", "Background refreshes of cached tokens run (refresh-ahead).", Counter, "",
		one(func(s *verifier.Stats) uint64 { return s.Refreshes })},
	{"refresh_failures", "Background refreshes that got no verdict.", Counter, "",
		one(func(s *verifier.Stats) uint64 { return s.RefreshFailures })},
	{"shared_cache_lookups", "Lookups in the shared cache (WithSharedCache), by result: hit, miss.", Counter, "result",
		func(s *verifier.Stats) []Value {
			return []Value{{"hit", float64(s.SharedHits)}, {"miss", float64(s.SharedMisses)}}
		}},
	{"shared_cache_cluster_waits", "Misses that waited for another replica's call to Clerk (cluster singleflight).", Counter, "",
		one(func(s *verifier.Stats) uint64 { return s.ClusterWaits })},
	{"shared_cache_errors", "Calls to the shared cache that failed for an outage (refused, reset, timed out on the wire); sharing paused, this replica alone meanwhile.", Counter, "",
		one(func(s *verifier.Stats) uint64 { return s.SharedErrors })},
	{"shared_cache_busy", "Calls to the shared cache or waits for another replica that ran out of the miss's budget (no free connection, a slow holder): not an outage.", Counter, "",
		one(func(s *verifier.Stats) uint64 { return s.SharedBusy })},
	{"shared_cache_rejected", "Entries or messages in the shared cache that did not authenticate, were stale or predated a revocation; ignored.", Counter, "",
		one(func(s *verifier.Stats) uint64 { return s.SharedRejected })},
	{"shared_cache_purges", "(Re)subscriptions to the shared cache's broadcasts, each of which retired this replica's own cache (its tokens verified again before use).", Counter, "",
		one(func(s *verifier.Stats) uint64 { return s.SharedPurges })},
	{"upstream_in_flight", "Calls to Clerk's verify endpoint in flight.", Gauge, "",
		func(s *verifier.Stats) []Value { return []Value{{V: float64(s.InFlight)}} }},
	{"cache_entries", "Entries in the cache.", Gauge, "",
		func(s *verifier.Stats) []Value { return []Value{{V: float64(s.CacheEntries)}} }},
	{"sources_in_good_standing", "Sources in good standing: a miss of theirs ended with a valid token recently.", Gauge, "",
		func(s *verifier.Stats) []Value { return []Value{{V: float64(s.GoodStanding)}} }},
	{"breaker_state", "The breaker's state: 1 for the current one (closed, open, half-open, or off without a breaker), 0 for the others.", Gauge, "state",
		func(s *verifier.Stats) []Value {
			vs := make([]Value, len(breakerStates))
			for i, st := range breakerStates {
				vs[i] = Value{Label: st}
				if st == s.BreakerState {
					vs[i].V = 1
				}
			}
			return vs
		}},
}

// The histograms fed by a verifier.Observer, named and explained in one place.
const (
	UpstreamDurationName = "upstream_duration" // m2mprom adds "_seconds"; OTel the unit "s"
	UpstreamDurationHelp = "Duration of calls to Clerk (quick retry included), by endpoint (verify, jwks), token kind (m2m_token, api_key, oauth_token; none for jwks) and outcome."
	MissDurationName     = "miss_duration"
	MissDurationHelp     = "Duration of verifications that missed the cache (admission, waiting for the call, the call), by token kind (m2m_token, api_key, oauth_token; none when refused before its kind was known) and outcome."
)

// Buckets are the histograms' bucket bounds, in seconds: from a local JWT
// check to Clerk's timeout.
var Buckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}
