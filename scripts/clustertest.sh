#!/usr/bin/env bash
# Scale-out scenarios of the shared cache (cache/rediscache): 4 replicas of
# the example service ($example below: examples/production), run as processes
# of their own with REDIS_URL and DEBUG_ADDR, share one
# redis-server (started by the driver on a free loopback port) and one Clerk
# emulator (in the driver, scripts/cluster, which counts its verify calls).
# Prints the figures of each scenario: cold start, the cold-deploy burst
# (256 connections per replica, 500 new tokens at once), revocation
# propagation, Redis killed and restarted under load, a forged entry.
# Loopback only; every loop is bounded (about a minute in all). Needs
# redis-server.
#
#   scripts/clustertest.sh                  # flags go to scripts/cluster
#   scripts/clustertest.sh -trials 20
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
example=./examples/production # the service the replicas run (REDIS_URL, DEBUG_ADDR)
go build -o "$tmp/replica" "$example"
go build -o "$tmp/cluster" ./scripts/cluster
"$tmp/cluster" -example "$tmp/replica" "$@"
