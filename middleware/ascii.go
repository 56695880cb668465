package middleware

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxDescription caps an error_description, in bytes.
const maxDescription = 200

// describe returns reason as it is shown to the caller, identically in the
// WWW-Authenticate error_description and in the JSON body: printable ASCII
// without '"' or '\' (RFC 6750's %x20-21 / %x23-5B / %x5D-7E), at most
// maxDescription bytes. Header values are bytes on the wire, and clients
// decode non-ASCII in them as Latin-1 or '?', so typographic characters get
// their ASCII spelling ('…' → "...", '’' and '"' → "'", '–' → "-", '→' →
// "->"), white space and control characters become a space, any other
// character or invalid byte becomes one '?', surrounding spaces are trimmed,
// and an over-long reason is cut to end in "...". It returns reason itself
// when nothing needs changing, and fallback (which must be safe) when nothing
// printable is left.
func describe(reason, fallback string) string {
	if reason != "" && len(reason) <= maxDescription && isQuotedSafe(reason) && reason[0] != ' ' && reason[len(reason)-1] != ' ' {
		return reason
	}
	var b strings.Builder
	b.Grow(min(len(reason), maxDescription) + 3)
	for i := 0; i < len(reason) && b.Len() <= maxDescription; {
		c := reason[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case quotedSafe(c):
				b.WriteByte(c)
			case c == '"':
				b.WriteByte('\'')
			case c == '\\':
				b.WriteByte('/')
			default: // control characters, DEL
				b.WriteByte(' ')
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(reason[i:])
		i += size
		b.WriteString(asciiFor(r))
	}
	out := strings.TrimSpace(b.String())
	if len(out) > maxDescription {
		out = strings.TrimSpace(out[:maxDescription-len("...")]) + "..."
	}
	if out == "" {
		return fallback
	}
	return out
}

// asciiFor spells a non-ASCII rune (utf8.RuneError for an invalid byte) in
// quoted-string-safe ASCII.
func asciiFor(r rune) string {
	switch r {
	case '…':
		return "..."
	case '‘', '’', '‚', '‛', '′', '´', '“', '”', '„', '‟', '″', '«', '»':
		return "'"
	case '‐', '‑', '‒', '–', '—', '―', '−':
		return "-"
	case '→':
		return "->"
	case '←':
		return "<-"
	case '≤':
		return "<="
	case '≥':
		return ">="
	case '×':
		return "x"
	}
	if unicode.IsSpace(r) || unicode.IsControl(r) {
		return " "
	}
	return "?"
}

// isQuotedSafe reports whether s may appear as is inside a quoted-string of
// an RFC 6750 challenge.
func isQuotedSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		if !quotedSafe(s[i]) {
			return false
		}
	}
	return true
}

func quotedSafe(c byte) bool {
	return c >= 0x20 && c <= 0x7e && c != '"' && c != '\\'
}
