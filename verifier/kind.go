package verifier

import (
	"encoding/base64"
	"encoding/json"
	"strings"
)

// A Kind is one of Clerk's machine credentials. Its string is Clerk's own
// name for it, as Clerk's SDKs take it in acceptsToken.
type Kind string

// The kinds of Clerk's machine credentials.
const (
	// KindM2M: an M2M token, opaque (mt_…) or a JWT whose sub is a machine
	// (mch_…); its subject is the calling machine, its scopes the machines it
	// may call.
	KindM2M Kind = "m2m_token"
	// KindAPIKey: an API key's secret (ak_…); its subject is the user, the
	// organization or the machine it was issued to, its scopes free-form.
	KindAPIKey Kind = "api_key"
	// KindOAuth: an OAuth access token that Clerk issued as an authorization
	// server, opaque (oat_…) or a JWT of type at+jwt; its subject is the
	// user who granted it, ClientID the OAuth application it was issued to.
	KindOAuth Kind = "oauth_token"
)

// Verifies reports whether v can verify tokens of kind k: every kind with a
// Clerk secret key (sk_…), M2M tokens only with a machine secret key (ak_…),
// which Clerk lets verify nothing else. middleware.New asks it to refuse,
// at construction, an Authenticator that accepts a kind its Verifier cannot
// verify; a wrapper around a Verifier can forward it.
func (v *Verifier) Verifies(k Kind) bool {
	switch k {
	case KindM2M:
		return v != nil
	case KindAPIKey, KindOAuth:
		return v != nil && v.keyKind != "ak"
	}
	return false
}

// The reasons a JWT is of no kind, or of a kind this Verifier cannot verify.
var (
	errJWTKind      = &InvalidTokenError{Reason: "JWT that is neither an M2M token nor an OAuth access token"}
	errKindNotHere  = &InvalidTokenError{Reason: "token of a kind a machine secret key cannot verify"}
	oauthJWTTypes   = [...]string{"at+jwt", "application/at+jwt"}
	m2mSubjectStart = "mch_"
)

// kindOfJWT tells the kind of a JWT-shaped token as @clerk/backend does,
// before any check of its signature: a machine (mch_…) as sub makes it an M2M
// token; else a header typ of at+jwt or application/at+jwt an OAuth access
// token; anything else is of no kind (invalid, without a call). It decodes
// the header and the payload, so it runs on a cache miss only.
func kindOfJWT(token string) (Kind, *InvalidTokenError) {
	h, p, _ := strings.Cut(token, ".")
	p, _, _ = strings.Cut(p, ".")
	var payload struct {
		Sub any `json:"sub"`
	}
	if decodeSegment(p, &payload) {
		if sub, ok := payload.Sub.(string); ok && strings.HasPrefix(sub, m2mSubjectStart) {
			return KindM2M, nil
		}
	}
	var header struct {
		Typ any `json:"typ"`
	}
	if decodeSegment(h, &header) {
		for _, t := range oauthJWTTypes {
			if header.Typ == t {
				return KindOAuth, nil
			}
		}
	}
	return "", errJWTKind
}

// decodeSegment decodes one base64url segment of a JWT as a JSON object into
// v, and reports whether it could.
func decodeSegment(seg string, v any) bool {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	return err == nil && json.Unmarshal(b, v) == nil
}
