package verifier

import (
	"strings"

	"github.com/m2mauth/m2mauth/internal/wire"
)

// The reasons of the local checks: preallocated, so a flood of garbage costs no
// allocation.
var (
	errEmptyToken    = &InvalidTokenError{Reason: "empty token"}
	errTokenTooLong  = &InvalidTokenError{Reason: "token too long"}
	errTokenBadChars = &InvalidTokenError{Reason: "token contains characters not allowed in a bearer token"}
	errTokenShape    = &InvalidTokenError{Reason: "not an M2M token (neither mt_… nor a JWT)"}
)

// Bounds of the random part of an opaque token: Clerk's are mt_ + 32 characters.
const (
	opaqueMinRandom = 16
	opaqueMaxRandom = 256
)

// checkSyntax is the local check of step 1: it returns nil for a token that may
// be an M2M token (mt_… or JWT-shaped), else the reason it cannot be. It reads
// each byte once, through a class table.
func checkSyntax(tok string) *InvalidTokenError {
	switch {
	case tok == "":
		return errEmptyToken
	case len(tok) > wire.MaxTokenLength:
		return errTokenTooLong
	}
	if rest, ok := strings.CutPrefix(tok, "mt_"); ok {
		all := uint8(classAll)
		for i := 0; i < len(rest); i++ {
			all &= charClass[rest[i]]
		}
		switch {
		case all&classToken == 0:
			return errTokenBadChars
		case all&classAlnum == 0 || len(rest) < opaqueMinRandom || len(rest) > opaqueMaxRandom:
			return errTokenShape
		}
		return nil
	}
	// JWT shape: three non-empty base64url segments.
	all, dots, segLen := uint8(classAll), 0, 0
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		all &= charClass[c]
		if c == '.' {
			if segLen == 0 {
				dots = 3 // an empty segment: not a JWT
			}
			dots++
			segLen = 0
		} else {
			segLen++
		}
	}
	switch {
	case all&classToken == 0:
		return errTokenBadChars
	case all&classJWT == 0 || dots != 2 || segLen == 0:
		return errTokenShape
	}
	return nil
}

// Character classes, as bits of charClass.
const (
	classToken = 1 << iota // RFC 6750 b64token: ALPHA DIGIT - . _ ~ + / =
	classAlnum             // ALPHA DIGIT
	classJWT               // base64url or '.': ALPHA DIGIT - _ .
	classAll   = classToken | classAlnum | classJWT
)

var charClass = func() (t [256]uint8) {
	for c := range 256 {
		b := byte(c)
		alnum := 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9'
		if wire.IsToken68Char(b) || b == '=' {
			t[c] |= classToken
		}
		if alnum {
			t[c] |= classAlnum
		}
		if wire.IsBase64URLChar(b) || b == '.' {
			t[c] |= classJWT
		}
	}
	return t
}()
