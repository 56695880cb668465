#!/usr/bin/env bash
# Load test of the example service (examples/nethttp on the embedded emulator)
# with wrk on loopback: throughput of the public GET /healthz against the
# protected GET /api/whoami with a warm verifier cache, alternated ROUNDS times.
# Prints each run and the ratio authenticated / unauthenticated.
#
#   scripts/loadtest.sh            # defaults: 3 rounds of 10 s, 2 threads, 64 connections
#   ROUNDS=5 DURATION=20s CONNS=128 scripts/loadtest.sh
#
# Needs wrk (Debian: apt-get install wrk). Sends traffic to 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3} DURATION=${DURATION:-10s} THREADS=${THREADS:-2} CONNS=${CONNS:-64}
PORT=${PORT:-18080}
command -v wrk >/dev/null || { echo "loadtest: wrk not found (apt-get install wrk)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'kill "${pid:-}" 2>/dev/null || true; wait "${pid:-}" 2>/dev/null || true; rm -rf "$tmp"' EXIT
go build -o "$tmp/nethttp" ./examples/nethttp
ADDR=127.0.0.1:$PORT "$tmp/nethttp" >"$tmp/out" 2>&1 &
pid=$!
for _ in $(seq 50); do grep -q '^Listening' "$tmp/out" 2>/dev/null && break; sleep 0.1; done
tok=$(grep -o "Bearer mt_[A-Za-z0-9]*" "$tmp/out" | head -n 1 | cut -d' ' -f2)
[ -n "$tok" ] || { echo "loadtest: no token printed by the example" >&2; cat "$tmp/out" >&2; exit 1; }

# Warm the cache and check the token works.
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $tok" "http://127.0.0.1:$PORT/api/whoami")
[ "$code" = 200 ] || { echo "loadtest: warm-up got $code" >&2; exit 1; }

rps() { awk '/Requests\/sec/ {print $2}'; }
sum_pub=0 sum_auth=0
for i in $(seq "$ROUNDS"); do
  pub=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" "http://127.0.0.1:$PORT/healthz" | rps)
  auth_out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" -H "Authorization: Bearer $tok" "http://127.0.0.1:$PORT/api/whoami")
  if grep -q 'Non-2xx' <<<"$auth_out"; then echo "loadtest: non-2xx answers under load" >&2; echo "$auth_out" >&2; exit 1; fi
  auth=$(rps <<<"$auth_out")
  printf 'round %d: GET /healthz (public) %10.0f req/s   GET /api/whoami (authenticated) %10.0f req/s\n' "$i" "$pub" "$auth"
  sum_pub=$(awk -v a="$sum_pub" -v b="$pub" 'BEGIN{print a+b}')
  sum_auth=$(awk -v a="$sum_auth" -v b="$auth" 'BEGIN{print a+b}')
done
awk -v a="$sum_auth" -v p="$sum_pub" 'BEGIN{printf "ratio authenticated/public: %.3f (goal >= 0.9)\n", a/p}'
