// Package clerktest is an in-process emulator of the parts of Clerk's Backend API
// that machine-to-machine (M2M) authentication uses: machines and their scopes,
// the four M2M token endpoints (create, list, revoke, verify) and the instance's
// JSON Web Key Set. It speaks Clerk's wire format (the OpenAPI spec's, field by
// field), status codes and error bodies, so clerkapi, the verifier and Clerk's
// official SDKs work against it unchanged.
//
// A [Server] is started on an httptest listener by [NewServer] (or on any
// listener by [Start]); its URL ends in /v1 and is what a client takes as its
// base URL. Machines and tokens can be set up through Go ([Server.CreateMachine],
// [Server.CreateToken], …) without touching the request counters.
//
// Tests steer the emulator with an injectable clock ([WithClock], [Clock]), count
// requests per endpoint ([Server.Calls]) and inject faults ([Server.Inject],
// [Server.InjectOn]): failures, rate limits, latency, hangs, malformed or
// oversized bodies and dropped connections.
//
// A Server and the Faults it holds are safe for concurrent use by multiple
// goroutines; [Server.Close] ends hanging requests and leaves no goroutines.
package clerktest
