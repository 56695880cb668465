package clerktest

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// randomString returns n characters drawn uniformly from base62.
func randomString(n int) string {
	b := make([]byte, n)
	// 248 = 4*62: rejecting bytes ≥ 248 keeps the draw uniform.
	buf := make([]byte, 2*n)
	i := 0
	for i < n {
		rand.Read(buf) // never returns an error (crypto/rand, Go ≥ 1.24)
		for _, c := range buf {
			if c >= 248 {
				continue
			}
			b[i] = base62[c%62]
			i++
			if i == n {
				break
			}
		}
	}
	return string(b)
}

func randomHex(nBytes int) string {
	b := make([]byte, nBytes)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func newMachineID() string         { return "mch_" + randomString(27) }
func newInstanceID() string        { return "ins_" + randomString(27) }
func newMachineKey() string        { return "ak_" + randomHex(20) }
func newInstanceKey() string       { return "sk_test_" + randomString(40) }
func newTokenID() string           { return "mt_" + randomHex(16) }
func newOpaqueToken() string       { return "mt_" + randomString(32) }
func newTraceID() string           { return randomHex(16) }
func newAPIKeyID() string          { return "ak_" + randomHex(16) }
func newAPIKeySecret() string      { return "ak_" + randomString(32) }
func newOAuthAppID() string        { return "oa_" + randomString(27) }
func newOAuthClientID() string     { return randomString(16) }
func newOAuthClientSecret() string { return randomString(32) }
func newOAuthTokenID() string      { return "oat_" + randomHex(16) }
func newOAuthToken() string        { return "oat_" + randomString(32) }

// publishableKey encodes the instance's Frontend API host (host:port for the
// emulator) as Clerk's publishable keys do: pk_test_ (pk_live_ for an
// sk_live_ secret key) followed by the unpadded standard base64 of the host
// and a "$", which @clerk/shared's parsePublishableKey decodes.
func publishableKey(secretKey, host string) string {
	prefix := "pk_test_"
	if strings.HasPrefix(secretKey, "sk_live_") {
		prefix = "pk_live_"
	}
	return prefix + base64.RawStdEncoding.EncodeToString([]byte(host+"$"))
}

func constantTimeEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// OAuth authorization codes and refresh tokens: random strings that only
// the emulator reads (Clerk's format is not documented).
func newOAuthCode() string    { return randomString(32) }
func newRefreshToken() string { return randomString(48) }
