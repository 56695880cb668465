package clerktest

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/internal/wire"
)

// TokenCategory is the "cat" header of Clerk's M2M JWTs.
const TokenCategory = wire.JWTCategory

// signingKey returns the instance's RSA key, generated on first use so that
// servers which never mint a JWT do not pay for it.
func (s *Server) signingKey() *rsa.PrivateKey {
	s.keyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic("clerktest: generating RSA key: " + err.Error())
		}
		s.key = k
	})
	return s.key
}

// issuer is the iss of the emulator's JWTs: its origin, without /v1.
func (s *Server) issuer() string { return strings.TrimSuffix(s.URL, "/v1") }

// mintJWT signs an RS256 M2M JWT shaped like Clerk's: header alg, kid (the
// instance ID), typ JWT and cat; payload iss, sub, aud (an array of the scoped
// machine IDs), scopes (the same IDs, space-separated), jti (the token ID),
// iat, exp and the custom claims at the top level; no nbf. A machine scoped to
// nothing gets neither aud nor scopes. JWT tokens are never stored.
func (s *Server) mintJWT(subject string, claims json.RawMessage, scopes []string, now, exp time.Time) (*clerkapi.M2MToken, *apiError) {
	payload := map[string]any{}
	if claims != nil {
		if err := json.Unmarshal(claims, &payload); err != nil {
			return nil, errParamFormat("claims", "claims of a JWT-format token must be a JSON object.")
		}
	}
	id := newTokenID()
	payload["iss"] = s.issuer()
	payload["sub"] = subject
	payload["iat"] = now.Unix()
	payload["exp"] = exp.Unix()
	payload["jti"] = id
	delete(payload, "nbf") // real M2M JWTs carry none
	delete(payload, "aud")
	delete(payload, "scopes")
	if len(scopes) > 0 {
		payload["aud"] = scopes
		payload["scopes"] = strings.Join(scopes, " ")
	}
	body, err := json.Marshal(payload)
	if err != nil {
		return nil, errParamFormat("claims", "claims could not be encoded.")
	}
	compact, e := s.signJWT(body, (&jose.SignerOptions{}).WithType("JWT").WithHeader("cat", TokenCategory))
	if e != nil {
		return nil, e
	}
	t := &token{
		id: id, subject: subject, claims: claims, scopes: scopes,
		expiration: time.Unix(exp.Unix(), 0), created: time.Unix(now.Unix(), 0), updated: time.Unix(now.Unix(), 0),
	}
	w := t.wire(now, false)
	w.Token = compact
	return w, nil
}

// signJWT signs payload with the instance key (RS256, kid the instance ID)
// and the header fields of opts, and returns the compact serialization.
func (s *Server) signJWT(payload []byte, opts *jose.SignerOptions) (string, *apiError) {
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: s.signingKey(), KeyID: s.instanceID}}, opts)
	if err != nil {
		return "", errInjected(http.StatusInternalServerError)
	}
	sig, err := signer.Sign(payload)
	if err != nil {
		return "", errInjected(http.StatusInternalServerError)
	}
	compact, err := sig.CompactSerialize()
	if err != nil {
		return "", errInjected(http.StatusInternalServerError)
	}
	return compact, nil
}

// verifyJWT checks a JWT-format token against the instance key, the clock and,
// for a machine caller, the scopes. Every failure is Clerk's 404.
func (s *Server) verifyJWT(c caller, value string, now time.Time) (*clerkapi.M2MToken, *apiError) {
	tok, err := jwt.ParseSigned(value, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil || len(tok.Headers) != 1 {
		return nil, errTokenNotFound()
	}
	h := tok.Headers[0]
	if h.KeyID != s.instanceID || h.ExtraHeaders["cat"] != TokenCategory {
		return nil, errTokenNotFound()
	}
	var raw map[string]json.RawMessage
	var std jwt.Claims
	if err := tok.Claims(&s.signingKey().PublicKey, &raw, &std); err != nil {
		return nil, errTokenNotFound()
	}
	if !clerkapi.MachineIDPattern.MatchString(std.Subject) || !clerkapi.TokenIDPattern.MatchString(std.ID) ||
		std.Issuer != s.issuer() {
		return nil, errTokenNotFound()
	}
	if std.Expiry != nil && !now.Before(std.Expiry.Time()) {
		return nil, errTokenNotFound()
	}
	if std.NotBefore != nil && now.Add(wire.JWTLeeway).Before(std.NotBefore.Time()) {
		return nil, errTokenNotFound()
	}
	var scopes []string
	if rs, ok := raw["scopes"]; ok {
		var str string
		if json.Unmarshal(rs, &str) != nil {
			return nil, errTokenNotFound()
		}
		scopes = strings.Fields(str)
	}
	if !c.instance && !slices.Contains(scopes, c.machineID) {
		return nil, errTokenNotFound()
	}
	for _, k := range wire.ReservedClaims {
		delete(raw, k)
	}
	var claims json.RawMessage
	if len(raw) > 0 {
		b, err := json.Marshal(raw)
		if err != nil {
			return nil, errTokenNotFound()
		}
		claims = b
	}
	t := &token{id: std.ID, subject: std.Subject, claims: claims, scopes: scopes}
	if std.Expiry != nil {
		t.expiration = std.Expiry.Time()
	}
	if std.IssuedAt != nil {
		t.created, t.updated = std.IssuedAt.Time(), std.IssuedAt.Time()
	} else {
		t.created, t.updated = now, now
	}
	return t.wire(now, false), nil
}

// JWKS returns the instance's public keys as GET /jwks answers them: one RSA
// key with use sig, alg RS256 and kid the instance ID.
func (s *Server) JWKS() *clerkapi.JWKS {
	k := jose.JSONWebKey{Key: &s.signingKey().PublicKey, KeyID: s.instanceID, Algorithm: string(jose.RS256), Use: "sig"}
	b, err := k.MarshalJSON() // go-jose encodes n and e as base64url
	var out clerkapi.JWK
	if err != nil || json.Unmarshal(b, &out) != nil {
		panic("clerktest: encoding the instance's public key")
	}
	return &clerkapi.JWKS{Keys: []clerkapi.JWK{out}}
}

func (s *Server) handleJWKS(w http.ResponseWriter, _ *http.Request, c caller) {
	if !c.instance {
		writeError(w, errSecretKeyRequired())
		return
	}
	writeJSON(w, http.StatusOK, s.JWKS())
}
