#!/usr/bin/env bash
# Checks what a net/http-only user of m2mauth pulls in: a fresh module that
# imports verifier, middleware and adapters/m2mhttp (the root module replaced
# by this checkout) must list at most MAX modules in `go list -m all`, and
# none of the frameworks, backends or test SDKs that live in nested modules.
#
#   scripts/consumer-deps.sh        # prints the list and the verdict
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
MAX=${MAX:-10}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/go.mod" <<MOD
module example.com/consumer

go 1.25.0

require github.com/m2mauth/m2mauth v0.0.0-00010101000000-000000000000

replace github.com/m2mauth/m2mauth => $root
MOD
cat >"$tmp/main.go" <<'GO'
package main

import (
	"log"
	"net/http"

	"github.com/m2mauth/m2mauth/adapters/m2mhttp"
	"github.com/m2mauth/m2mauth/middleware"
	"github.com/m2mauth/m2mauth/verifier"
)

func main() {
	v, err := verifier.New("ak_consumer_check_key")
	if err != nil {
		log.Fatal(err)
	}
	auth, err := middleware.New(v)
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(http.ListenAndServe("127.0.0.1:0", m2mhttp.Middleware(auth)(http.NotFoundHandler())))
}
GO
cd "$tmp"
export GOWORK=off GOFLAGS=-mod=mod
go mod tidy
go build -o /dev/null .
mods=$(go list -m all)
n=$(wc -l <<<"$mods")
echo "go list -m all of a net/http-only consumer ($n modules):"
sed 's/^/  /' <<<"$mods"
bad=$(awk '{print $1}' <<<"$mods" | grep -Ei 'gin-gonic|labstack|clerk-sdk-go|kin-openapi|quic-go|mongo-driver|redis|prometheus|opentelemetry|grpc' || true)
if [ -n "$bad" ]; then echo "consumer-deps: FAIL: the consumer's graph holds $bad" >&2; exit 1; fi
if [ "$n" -gt "$MAX" ]; then echo "consumer-deps: FAIL: $n modules, more than $MAX" >&2; exit 1; fi
echo "consumer-deps: ok ($n <= $MAX modules, no framework, backend or test SDK)"
