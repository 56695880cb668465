#!/usr/bin/env bash
# Checks that the committed go.work.sum is complete: no read-only go command
# run in any module of the workspace adds a line to it. What adds lines when
# some are missing: `go doc` and `go list -m all` (the go.mod sums of the
# whole module graph), `go mod download` (the sums of every module's
# content), and `go list`, `go build`, `go vet`, `go test` (the modules their
# packages and tests import). In workspace mode every module shares one
# module graph, so the graph-wide commands run once, and `go list -deps -test`
# once over the packages of every module. `make test` runs this last, so what
# its go vet and go test steps added is caught too.
#
#   scripts/worksum.sh [MODULE_DIR…]           # check; default: every module (`make modules`)
#   scripts/worksum.sh -refresh [MODULE_DIR…]  # run the same commands and let them add what is missing
#
# The check fails when go.work.sum differs from its staged copy (git add):
# before it runs (an earlier step added lines, or a refresh is not staged
# yet), or after one of its commands, which it names. It also fails when
# .gitignore misses a binary that `go build` writes in a main package's
# directory.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
refresh=
if [ "${1:-}" = -refresh ]; then
	refresh=1
	shift
fi
if [ $# -eq 0 ]; then
	set -- $(make -s modules)
fi

snap=$(mktemp)
trap 'rm -f "$snap"' EXIT

fail() {
	echo "worksum: go.work.sum is incomplete: $1" >&2
	git diff --stat -- go.work.sum >&2
	git diff -U0 -- go.work.sum | grep '^+[^+]' >&2 || true
	echo "worksum: refresh it with scripts/worksum.sh -refresh, check that it only added lines, and commit it (CONTRIBUTING.md)" >&2
	exit 1
}

if [ -z "$refresh" ] && ! git diff --quiet -- go.work.sum; then
	fail "it differs from its staged copy (lines added by an earlier step of make test, or a change not yet git-added)"
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
	if [ -z "$refresh" ] && ! cmp -s go.work.sum "$snap"; then
		fail "\`go $label\` added to it"
	fi
}

cp go.work.sum "$snap"
check "list -m all" list -m all
check "doc" doc -short ./clerkapi
check "mod download" mod download
check "list -deps -test MODULE/..." list -deps -test "${pkgs[@]}"

# `go build` in a main package's directory writes the command there, named
# after the directory: .gitignore holds each, so that git status stays clean.
missing=()
while read -r dir; do
	[ -n "$dir" ] || continue
	bin=${dir#"$PWD"/}/$(basename "$dir")
	git check-ignore -q "$bin" || missing+=("/$bin")
done < <("$GO" list -f '{{if eq .Name "main"}}{{.Dir}}{{end}}' "${pkgs[@]}")
if [ ${#missing[@]} -gt 0 ]; then
	echo "worksum: .gitignore does not hold what go build writes; add:" >&2
	printf '%s\n' "${missing[@]}" >&2
	exit 1
fi

if [ -n "$refresh" ]; then
	git diff --stat -- go.work.sum
	echo "worksum: go.work.sum refreshed; check that \`git diff go.work.sum\` only adds lines, then commit it"
fi
