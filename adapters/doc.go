// Package adapters holds nothing but its subdirectories, one framework
// adapter each: m2mhttp for net/http (in the root module), and m2mecho (Echo
// v4), m2mecho5 (Echo v5) and m2mgin (Gin), each a module of its own so that
// a service pulls in only the framework it uses. The cross-adapter tests live in the
// adapters/conformance module.
package adapters
