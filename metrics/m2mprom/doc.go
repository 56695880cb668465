// Package m2mprom exposes a verifier.Verifier's metrics to Prometheus.
//
// A Collector reads Verifier.Stats at scrape time, so the hit path costs
// nothing; an Observer (given to the Verifier with verifier.WithObserver)
// feeds the latency histograms of the misses and of the calls to Clerk:
//
//	obs, _ := m2mprom.NewObserver()
//	v, _ := verifier.New(key, verifier.WithObserver(obs))
//	c, _ := m2mprom.NewCollector(v, m2mprom.WithObserver(obs))
//	prometheus.MustRegister(c)
//
// # Metrics
//
// Counters (since the Verifier's New):
//
//	m2mauth_cache_hits_total                     verifications answered from a positive cache entry
//	m2mauth_cache_negative_hits_total            … from a negative entry (a token Clerk refused)
//	m2mauth_cache_misses_total                   verifications that found no live entry
//	m2mauth_shared_waits_total                   misses answered by another caller's call (singleflight)
//	m2mauth_upstream_requests_total{endpoint}    HTTP requests to Clerk: endpoint="verify" or "jwks" (retries, readiness probes included)
//	m2mauth_upstream_retries_total               quick retries after a connection failure
//	m2mauth_local_jwt_checks_total               JWTs verified locally against the JWKS
//	m2mauth_verify_errors_total{reason}          Verify's errors: invalid, unavailable, misconfigured, rate_limited, canceled
//	m2mauth_admission_refusals_total{reason}     misses refused without a call: backoff, overload, breaker, source_budget
//	m2mauth_admissions_total{share}              calls admitted by the overall budget: share="reserved" (sources in good standing, refills, refreshes) or "unreserved"
//	m2mauth_budget_refusals_total{share}         calls refused by the overall budget, by the share they were entitled to (part of overload)
//	m2mauth_refills_total                        calls for tokens valid before a re-subscription, charged to no source
//	m2mauth_refreshes_total                      background refreshes (refresh-ahead)
//	m2mauth_refresh_failures_total               … that got no verdict
//	m2mauth_shared_cache_lookups_total{result}   with WithSharedCache: lookups in it, result="hit" or "miss"
//	m2mauth_shared_cache_cluster_waits_total     … misses that waited for another replica's call
//	m2mauth_shared_cache_errors_total            … calls to it that failed for an outage (sharing paused)
//	m2mauth_shared_cache_busy_total              … calls or waits out of the miss's budget: not an outage
//	m2mauth_shared_cache_rejected_total          … entries or messages that did not authenticate, were stale or predated a revocation
//	m2mauth_shared_cache_purges_total            … (re)subscriptions, each retiring this replica's cache
//
// Gauges:
//
//	m2mauth_upstream_in_flight                   calls to Clerk's verify endpoint in flight
//	m2mauth_cache_entries                        entries in the cache
//	m2mauth_sources_in_good_standing             sources whose misses recently ended with a valid token
//	m2mauth_breaker_state{state}                 1 for the current state (closed, open, half-open, off), else 0
//
// Histograms (with an Observer; durations on the Verifier's clock):
//
//	m2mauth_upstream_duration_seconds{endpoint,kind,outcome}  calls to Clerk, quick retry included
//	m2mauth_miss_duration_seconds{kind,outcome}               misses: admission, the wait for the call, the call
//
// kind is the token's (m2m_token, api_key, oauth_token): empty for a JWKS
// fetch, and for a miss refused before its kind was known.
//
// outcome is one of verifier's Outcome values: ok, invalid, unavailable,
// rate_limited (a call: Clerk's 429; a miss: the source's budget),
// misconfigured, canceled. Every label has a handful of fixed values: no
// token, key, subject, token ID or address is ever a label. The
// reasons of verify_errors are disjoint: their sum is every error Verify
// returned; those of admission_refusals overlap them (backoff, overload and
// breaker are also unavailable, source_budget is rate_limited). admissions
// and budget_refusals count calls asked for (one per flight), not requests:
// budget_refusals is the part of overload that the overall budget refused.
//
// The same metrics are available as OpenTelemetry instruments in the module
// metrics/m2motel, whose Prometheus exporter gives them the same names.
//
// # Concurrency
//
// A Collector and an Observer are safe for concurrent use by multiple
// goroutines; neither starts any goroutine.
package m2mprom
