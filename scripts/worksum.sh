#!/usr/bin/env bash
# Checks that the committed go.work.sum is complete: the read-only go commands
# that a contributor, an editor or CI runs in any module of the workspace add
# nothing to it. Missing lines would be added by `go doc` and `go list -m all`
# (the go.mod sums of the whole module graph), by `go mod download` (the sums
# of every module's content) and by `go list`, `go build`, `go vet` and
# `go test` (the modules their packages and tests import), in any module: in
# workspace mode they all share one module graph, so the graph-wide commands
# run once, and the package-level one once over every module's packages.
# `make test` runs this after `go vet` and `go test`, so what those added is
# caught too.
#
#   scripts/worksum.sh [MODULE_DIR…]   # default: every module (`make modules`)
#
# It fails when go.work.sum differs from its staged copy (git add), saying
# which command changed it. CONTRIBUTING.md says how to refresh the file.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
if [ $# -eq 0 ]; then
	set -- $(make -s modules)
fi

snap=$(mktemp)
trap 'rm -f "$snap"' EXIT

fail() {
	echo "worksum: go.work.sum is incomplete: $1" >&2
	git diff --stat -- go.work.sum >&2
	git diff -U0 -- go.work.sum | grep '^+[^+]' >&2 || true
	echo "worksum: refresh it as CONTRIBUTING.md says (\"go.work.sum\"), then commit it" >&2
	exit 1
}

if ! git diff --quiet -- go.work.sum; then
	fail "it differs from its staged copy before this check ran (an earlier step of make test, or a change not yet added)"
fi

pkgs=()
for m in "$@"; do
	pkgs+=("$m/...")
done

# check LABEL ARG…: runs go ARG…, then fails if go.work.sum changed.
check() {
	local label=$1
	shift
	if ! "$GO" "$@" >/dev/null; then
		echo "worksum: go $label failed" >&2
		exit 1
	fi
	if ! cmp -s go.work.sum "$snap"; then
		fail "\`go $label\` added to it"
	fi
}

cp go.work.sum "$snap"
check "list -m all" list -m all
check "doc" doc -short ./clerkapi
check "mod download" mod download
check "list -deps -test MODULE/..." list -deps -test "${pkgs[@]}"
