// Command clerk-emulator serves the clerktest Clerk emulator as a standalone
// server, for local development and for clients in any language.
//
// At start it creates demo machines — "caller" scoped to "receiver", and
// "loner" scoped to nothing — and prints the base URL (ending in /v1), the
// instance's Clerk secret key and each machine's ID, name, secret key and
// scopes. Then it prints three lines to paste into sh, bash or zsh, which
// need curl, grep and cut (no jq), with the keys and IDs of this run filled in:
//
//	TOKEN=$(curl -sS -w '\n' -X POST http://127.0.0.1:8787/v1/m2m_tokens -H 'Authorization: Bearer ak_…' -H 'Content-Type: application/json' -d '{}' | grep -o '"token":"[^"]*"' | cut -d'"' -f4)
//	curl -sS -w '\n' -X POST http://127.0.0.1:8787/v1/m2m_tokens/verify -H 'Authorization: Bearer sk_test_…' -H 'Content-Type: application/json' -d "{\"token\":\"$TOKEN\"}"
//	curl -sS -w '\n' -X POST http://127.0.0.1:8787/v1/machines -H 'Authorization: Bearer sk_test_…' -H 'Content-Type: application/json' -d '{"name":"worker","scoped_machines":["mch_…"]}'
//
// The first mints an opaque token with caller's machine secret key (ak_…)
// and keeps its value in $TOKEN (201; the token is shown only then); the
// second verifies it with the Clerk secret key (200, the token object
// without its value; receiver's key works too, since the token is scoped to
// it, and another machine's key gets 404); the third adds a machine "worker"
// that may call receiver (200, with the new machine's ID and secret key).
// Send a service the token as "Authorization: Bearer $TOKEN".
//
// With -json it prints exactly one JSON object on the first line of stdout
// instead, and no curl lines:
//
//	{"base_url": …, "secret_key": …, "machines": [{"id": …, "name": …, "secret_key": …, "scoped_machines": […]}]}
//
// Usage:
//
//	clerk-emulator [-addr 127.0.0.1:8787] [-json]
//
// It serves the API exactly as package clerktest documents it: the M2M token
// endpoints under /v1 and at the origin (as @clerk/backend calls them), verify
// with the token as "token" or as "secret" (Clerk's Python and C# SDKs), and
// JWT-format tokens with Clerk's claim set (iss is the emulator's origin).
//
// It stops cleanly on SIGINT or SIGTERM. All state lives in memory.
package main
