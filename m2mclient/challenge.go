package m2mclient

import (
	"net/http"
	"strings"
)

// invalidTokenChallenge reports whether h carries a Bearer challenge with
// error="invalid_token" (RFC 6750 §3), the answer of a service that refused the
// token itself rather than the request.
func invalidTokenChallenge(h http.Header) bool {
	for _, v := range h.Values("Www-Authenticate") {
		if bearerError(v) == "invalid_token" {
			return true
		}
	}
	return false
}

// bearerError returns the error parameter of the first Bearer challenge in one
// WWW-Authenticate value, or "". It understands the RFC 9110 grammar:
// challenges separated by commas, each a scheme followed by auth-params whose
// values are tokens or quoted strings.
func bearerError(v string) string {
	const maxLen = 8 << 10
	if len(v) > maxLen {
		return ""
	}
	p := authParser{s: v}
	inBearer := false
	for {
		p.skipSpaceAndCommas()
		if p.done() {
			return ""
		}
		name := p.token()
		if name == "" {
			return "" // malformed: give up rather than guess
		}
		p.skipSpace()
		if p.peek() != '=' {
			// A new challenge: its scheme, maybe followed by params or token68.
			inBearer = strings.EqualFold(name, "Bearer")
			continue
		}
		p.i++ // '='
		p.skipSpace()
		if p.peek() == '=' { // token68 padding ("abc==")
			for p.peek() == '=' {
				p.i++
			}
			continue
		}
		var val string
		if p.peek() == '"' {
			var ok bool
			if val, ok = p.quoted(); !ok {
				return ""
			}
		} else {
			val = p.token()
		}
		if inBearer && strings.EqualFold(name, "error") {
			return val
		}
	}
}

type authParser struct {
	s string
	i int
}

func (p *authParser) done() bool { return p.i >= len(p.s) }

func (p *authParser) peek() byte {
	if p.done() {
		return 0
	}
	return p.s[p.i]
}

func (p *authParser) skipSpace() {
	for !p.done() && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func (p *authParser) skipSpaceAndCommas() {
	for !p.done() && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == ',') {
		p.i++
	}
}

// token reads an RFC 9110 token (also accepting token68's '/' and '+').
func (p *authParser) token() string {
	start := p.i
	for !p.done() && isTokenChar(p.s[p.i]) {
		p.i++
	}
	return p.s[start:p.i]
}

// quoted reads a quoted-string starting at '"', undoing backslash escapes.
func (p *authParser) quoted() (string, bool) {
	p.i++ // opening quote
	var b strings.Builder
	for !p.done() {
		c := p.s[p.i]
		p.i++
		switch c {
		case '"':
			return b.String(), true
		case '\\':
			if p.done() {
				return "", false
			}
			b.WriteByte(p.s[p.i])
			p.i++
		default:
			b.WriteByte(c)
		}
	}
	return "", false
}

func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~/", c) >= 0
}
