#!/usr/bin/env bash
# Flood scenarios of the upstream protection (the verifier's budgets, cap on
# calls in flight, breaker, refresh-ahead) against the example service
# examples/production, run as its own process, with Clerk emulated in the load
# tool (scripts/flood) so that faults and calls are under its control. Prints
# the figures of each scenario. Sends traffic to 127.0.0.0/8 only; every loop
# is bounded by its scenario's duration (about 4.5 minutes in all).
#
#   scripts/floodtest.sh                 # hang (10 s), ratelimit (60 s), steady (3 min)
#   scripts/floodtest.sh -only hang      # one scenario; flags go to scripts/flood
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/production" ./examples/production
go build -o "$tmp/flood" ./scripts/flood
"$tmp/flood" -example "$tmp/production" "$@"
