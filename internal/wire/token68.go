package wire

// token68 marks the bytes of RFC 7235's token68 before its trailing '=':
// ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" (RFC 6750's b64token).
var token68 = func() (t [256]bool) {
	for c := range 256 {
		b := byte(c)
		t[c] = 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' ||
			b == '-' || b == '.' || b == '_' || b == '~' || b == '+' || b == '/'
	}
	return t
}()

// IsToken68Char reports whether c may appear in a token68 before its padding:
// ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/".
func IsToken68Char(c byte) bool { return token68[c] }

// IsToken68 reports whether s is a token68: 1*( ALPHA / DIGIT / "-" / "." /
// "_" / "~" / "+" / "/" ) *"=". A bearer token (RFC 6750 §2.1) is one, so it
// never holds a space, a quote or a control character.
func IsToken68(s string) bool {
	i := 0
	for i < len(s) && token68[s[i]] {
		i++
	}
	if i == 0 {
		return false
	}
	for i < len(s) && s[i] == '=' {
		i++
	}
	return i == len(s)
}
