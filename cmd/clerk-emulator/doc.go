// Command clerk-emulator serves the clerktest Clerk emulator as a standalone
// server, for local development and for clients in any language.
//
// At start it creates demo machines — "caller" scoped to "receiver", and
// "loner" scoped to nothing — and prints the base URL (ending in /v1), the
// instance's Clerk secret key and each machine's ID, name, secret key and
// scopes. With -json it prints exactly one JSON object on the first line of
// stdout instead:
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
