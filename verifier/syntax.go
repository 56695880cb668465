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
	errTokenShape    = &InvalidTokenError{Reason: "not a Clerk machine credential (mt_…, ak_…, oat_… or a JWT)"}
)

// Bounds of the random part of an opaque token, after its prefix: Clerk's
// M2M tokens are mt_ + 32 characters.
const (
	opaqueMinRandom = 16
	opaqueMaxRandom = 256
)

// A shape is what the local check of step 1 tells of a token: the kind of an
// opaque token, by its prefix, or a JWT, whose kind decoding tells (on a
// miss only: see kindOfJWT).
type shape uint8

const (
	shapeJWT    shape = iota
	shapeM2M          // mt_…
	shapeAPIKey       // ak_…
	shapeOAuth        // oat_…
)

// kind returns the Kind of an opaque token's shape; "" for a JWT.
func (s shape) kind() Kind {
	return [...]Kind{"", KindM2M, KindAPIKey, KindOAuth}[s]
}

// The prefixes of Clerk's opaque machine credentials, as @clerk/backend reads
// them. An inbound ak_… is an API key's secret, never a machine secret key.
var opaquePrefixes = [...]struct {
	prefix string
	shape  shape
	class  uint8 // the class every byte after the prefix is in
}{
	{"mt_", shapeM2M, classAlnum},
	{"ak_", shapeAPIKey, classOpaque},
	{"oat_", shapeOAuth, classOpaque},
}

// checkSyntax is the local check of step 1: it returns the shape of a token
// that may be one of Clerk's machine credentials — mt_ and 16 to 256
// alphanumerics, ak_ or oat_ and 16 to 256 b64token characters but '.', or
// three non-empty base64url segments — else the reason it cannot be. It
// reads each byte once, through a class table, and does not allocate.
func checkSyntax(tok string) (shape, *InvalidTokenError) {
	switch {
	case tok == "":
		return 0, errEmptyToken
	case len(tok) > wire.MaxTokenLength:
		return 0, errTokenTooLong
	}
	for _, p := range opaquePrefixes {
		rest, ok := strings.CutPrefix(tok, p.prefix)
		if !ok {
			continue
		}
		all := uint8(classAll)
		for i := 0; i < len(rest); i++ {
			all &= charClass[rest[i]]
		}
		switch {
		case all&classToken == 0:
			return 0, errTokenBadChars
		case all&p.class == 0 || len(rest) < opaqueMinRandom || len(rest) > opaqueMaxRandom:
			return 0, errTokenShape
		}
		return p.shape, nil
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
		return 0, errTokenBadChars
	case all&classJWT == 0 || dots != 2 || segLen == 0:
		return 0, errTokenShape
	}
	return shapeJWT, nil
}

// Character classes, as bits of charClass.
const (
	classToken  = 1 << iota // RFC 6750 b64token: ALPHA DIGIT - . _ ~ + / =
	classAlnum              // ALPHA DIGIT
	classJWT                // base64url or '.': ALPHA DIGIT - _ .
	classOpaque             // b64token but '.': ALPHA DIGIT - _ ~ + / =
	classAll    = classToken | classAlnum | classJWT | classOpaque
)

var charClass = func() (t [256]uint8) {
	for c := range 256 {
		b := byte(c)
		alnum := 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9'
		if wire.IsToken68Char(b) || b == '=' {
			t[c] |= classToken
			if b != '.' {
				t[c] |= classOpaque
			}
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
