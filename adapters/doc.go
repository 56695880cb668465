// Package adapters holds nothing but its subdirectories, one framework
// adapter each: m2mhttp for net/http (in the root module), and m2mecho (Echo
// v4), m2mecho5 (Echo v5), m2mgin (Gin), m2mgrpc (gRPC) and m2mmcp (MCP
// servers built with the official Go SDK), each a module of its own so that a
// service pulls in only the framework it uses. The cross-adapter tests of the
// HTTP adapters live in the adapters/conformance module, and the fixtures the
// adapters' tests share in adapters/internal/adaptertest.
package adapters
