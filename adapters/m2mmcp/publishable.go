package m2mmcp

import (
	"encoding/base64"
	"errors"
	"net"
	"net/netip"
	"strings"
)

// frontendAPI is the origin of the Clerk instance's Frontend API, its OAuth
// authorization server, as Clerk's SDKs derive it from a publishable key: the
// part after "pk_test_" or "pk_live_" is the base64 of the host followed by
// "$". The scheme is https, but http for a loopback host (the emulator's,
// 127.0.0.1:port), which serves no TLS.
func frontendAPI(pk string) (string, error) {
	bad := errors.New("m2mmcp: Config.PublishableKey is not a Clerk publishable key (pk_test_ or pk_live_ and the base64 of the Frontend API host followed by '$')")
	rest, ok := strings.CutPrefix(pk, "pk_test_")
	if !ok {
		if rest, ok = strings.CutPrefix(pk, "pk_live_"); !ok {
			return "", bad
		}
	}
	if len(rest) > 512 {
		return "", bad
	}
	b, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(rest, "="))
	if err != nil {
		return "", bad
	}
	host, ok := strings.CutSuffix(string(b), "$")
	if !ok || !isHostPort(host) {
		return "", bad
	}
	if isLoopback(hostname(host)) {
		return "http://" + host, nil
	}
	return "https://" + host, nil
}

// isHostPort reports whether s is a host, or host:port, with nothing else: no
// scheme, path, user information or white space.
func isHostPort(s string) bool {
	if s == "" || strings.ContainsAny(s, "/?#@\\\"") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	if _, _, err := net.SplitHostPort(s); err == nil {
		return true
	}
	return !strings.Contains(s, ":") || (strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]"))
}

// hostname is host without its port and brackets.
func hostname(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return strings.Trim(host, "[]")
}

// isLoopback reports whether host (without port) is localhost or a loopback
// IP address, where MCP clients allow plain http.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return err == nil && ip.IsLoopback()
}
