package rediscache_test

import (
	"github.com/m2mauth/m2mauth/cache/rediscache"
	"github.com/m2mauth/m2mauth/verifier"
)

// Cache satisfies verifier.SharedCache structurally: the package itself
// imports nothing of the verifier (nor go-jose, golang-lru, x/time).
var _ verifier.SharedCache = (*rediscache.Cache)(nil)
