#!/usr/bin/env bash
# Flood scenarios of the upstream protection (the verifier's budgets and
# shares, cap on calls in flight, breaker, refresh-ahead, purges of the
# shared cache) against an example service, run as its own process, with
# Clerk emulated in the load tool (scripts/flood) so that faults and calls are
# under its control. Prints the figures of each scenario. Sends traffic to
# 127.0.0.0/8 only; every loop is bounded by its scenario's duration (about 7
# minutes in all). The restart and drops scenarios need redis-server and
# redis-cli (Debian's redis-server package).
#
#   scripts/floodtest.sh                 # hang, ratelimit, steady, distributed, restart, drops
#   scripts/floodtest.sh -only hang      # one scenario; flags go to scripts/flood
#   EXAMPLE=./examples/other scripts/floodtest.sh
set -euo pipefail
cd "$(dirname "$0")/.."
# The example service the scenarios run against: it must read the environment
# and serve the routes that scripts/flood's documentation lists.
example=${EXAMPLE:-./examples/production}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/example" "$example"
go build -o "$tmp/flood" ./scripts/flood
"$tmp/flood" -example "$tmp/example" "$@"
