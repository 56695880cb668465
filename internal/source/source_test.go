package source_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/m2mauth/m2mauth/internal/source"
)

func TestFromAddr(t *testing.T) {
	for _, tc := range []struct {
		name, remote, want string
	}{
		{"IPv4", "192.0.2.7:51234", "192.0.2.7"},
		{"IPv4-mapped IPv6", "[::ffff:192.0.2.7]:51234", "192.0.2.7"},
		{"IPv6 counts by its /64", "[2001:db8:1:2:aaaa:bbbb:cccc:dddd]:443", "2001:db8:1:2::/64"},
		{"same /64, another host", "[2001:db8:1:2::1]:443", "2001:db8:1:2::/64"},
		{"IPv6 with a zone", "[fe80::1%eth0]:80", "fe80::/64"},
		{"loopback", "127.0.0.1:80", "127.0.0.1"},
		{"bad IPv6 in brackets", "[zz::1]:80", "[zz::1]:80"},
		{"not ip:port", "@unix", "@unix"},
		{"empty", "", ""},
		{"long garbage is cut", strings.Repeat("x", 100), strings.Repeat("x", 64)},
		{"long garbage with a colon is cut", strings.Repeat("x", 100) + ":1", strings.Repeat("x", 64)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := source.FromAddr(tc.remote); got != tc.want {
				t.Errorf("FromAddr(%q) = %q, want %q", tc.remote, got, tc.want)
			}
			if ap, err := netip.ParseAddrPort(tc.remote); err == nil {
				if got := source.FromIP(ap.Addr()); got != tc.want {
					t.Errorf("FromIP(%v) = %q, want %q", ap.Addr(), got, tc.want)
				}
			}
		})
	}
}

func TestFromAddrDoesNotAllocateForIPv4(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { _ = source.FromAddr("192.0.2.7:51234") }); n != 0 {
		t.Errorf("got %v allocations, want 0", n)
	}
}
