// Package source names the source of a request for the verifier's
// per-source budget, the same way whichever door the request came in by
// (net/http's RemoteAddr, gRPC's peer address): an IPv4 address as it is,
// an IPv6 address by its /64 prefix (one host usually holds a whole /64), an
// IPv4-mapped one as IPv4; anything else as it is, cut at 64 bytes.
//
// Everything here is a pure function, safe for concurrent use.
package source

import (
	"net/netip"
	"strings"
)

// maxLen bounds a source that is not an address.
const maxLen = 64

// FromAddr names the source of a peer address "ip:port". It does not
// allocate for IPv4.
func FromAddr(ra string) string {
	i := strings.LastIndexByte(ra, ':')
	if i < 0 {
		return ra[:min(len(ra), maxLen)]
	}
	host := ra[:i]
	if len(host) > 2 && host[0] == '[' && host[len(host)-1] == ']' {
		addr, err := netip.ParseAddr(host[1 : len(host)-1])
		if err != nil {
			return ra[:min(len(ra), maxLen)]
		}
		return FromIP(addr)
	}
	if addr, err := netip.ParseAddr(host); err != nil || !addr.Is4() {
		return ra[:min(len(ra), maxLen)]
	}
	return host // a substring of ra: no allocation
}

// FromIP names the source of a peer's parsed IP address: IPv4 (or
// IPv4-mapped) as IPv4, IPv6 by its /64 prefix, without its zone. It
// allocates the string.
func FromIP(addr netip.Addr) string {
	if addr = addr.Unmap(); addr.Is4() {
		return addr.String()
	}
	return netip.PrefixFrom(addr.WithZone(""), 64).Masked().String()
}
