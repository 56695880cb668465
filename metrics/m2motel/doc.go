// Package m2motel exposes a verifier.Verifier to OpenTelemetry: a span around
// each verification that missed the cache and each call to Clerk inside it,
// latency histograms, and the Verifier's Stats as observable instruments.
//
//	obs, _ := m2motel.NewObserver()              // global providers unless WithTracerProvider / WithMeterProvider
//	v, _ := verifier.New(key, verifier.WithObserver(obs))
//	reg, _ := m2motel.RegisterStats(v)           // reg.Unregister() to stop
//
// # Spans
//
//	m2mauth.miss    (internal)  a Verify that missed the cache: admission, the wait for the call, the call
//	clerk.verify    (client)    the verify endpoint of the token's kind, quick retry included; a child of its miss
//	clerk.jwks      (client)    GET /jwks (for a local JWT check, or Verifier.Ready)
//
// Attributes: m2mauth.outcome (ok, invalid, unavailable, rate_limited,
// misconfigured, canceled; see verifier.Outcome), m2mauth.token_kind
// (m2m_token, api_key, oauth_token) once the token's kind is known, and on
// calls m2mauth.endpoint (verify, jwks), http.request.method and
// http.response.status_code (when Clerk answered). No token, key, subject,
// token ID, source or address is ever an attribute. A span ends with status
// Error when its outcome is unavailable, rate_limited (a call) or
// misconfigured; a token Clerk refused is not an error of the service. The
// context of a call carries its span, so an instrumented HTTP client given
// to verifier.WithHTTPClient (otelhttp) nests under it. A cache hit makes no
// span.
//
// # Metrics
//
// The same as package m2mprom's, named m2mauth.<name>, with the same
// attribute names as m2mprom's labels (OpenTelemetry's Prometheus exporter
// turns them into m2mprom's names, _total and _seconds included):
//
//	m2mauth.upstream_duration (histogram, s)  {endpoint, kind, outcome}
//	m2mauth.miss_duration     (histogram, s)  {kind, outcome}
//	m2mauth.cache_hits, m2mauth.cache_negative_hits, m2mauth.cache_misses, m2mauth.shared_waits,
//	m2mauth.upstream_requests {endpoint}, m2mauth.upstream_retries, m2mauth.local_jwt_checks,
//	m2mauth.verify_errors {reason}, m2mauth.admission_refusals {reason},
//	m2mauth.admissions {share}, m2mauth.budget_refusals {share}, m2mauth.refills,
//	m2mauth.refreshes, m2mauth.refresh_failures,
//	m2mauth.shared_cache_lookups {result}, m2mauth.shared_cache_cluster_waits,
//	m2mauth.shared_cache_errors, m2mauth.shared_cache_busy, m2mauth.shared_cache_rejected,
//	m2mauth.shared_cache_purges                           (observable counters, from Stats)
//	m2mauth.upstream_in_flight, m2mauth.cache_entries,
//	m2mauth.sources_in_good_standing,
//	m2mauth.breaker_state {state}                          (observable gauges, from Stats)
//
// Stats are read once per collection, in the callback that RegisterStats
// registers: nothing on the hit path.
//
// # Concurrency
//
// An Observer is safe for concurrent use by multiple goroutines; the package
// starts no goroutine (the SDK's readers and exporters do, and are the
// application's).
package m2motel
