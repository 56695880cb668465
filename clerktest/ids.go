package clerktest

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
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

func newMachineID() string   { return "mch_" + randomString(27) }
func newInstanceID() string  { return "ins_" + randomString(27) }
func newMachineKey() string  { return "ak_" + randomHex(20) }
func newInstanceKey() string { return "sk_test_" + randomString(40) }
func newTokenID() string     { return "mt_" + randomHex(16) }
func newOpaqueToken() string { return "mt_" + randomString(32) }
func newTraceID() string     { return randomHex(16) }

func constantTimeEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
