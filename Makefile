# The test command CI runs (see .ci/run and README.md): `make test` checks
# every module of the repository (the root and each nested go.mod).
GO ?= go

# Every module: the root first, then the nested ones (frameworks, conformance,
# examples that need a framework), in a stable order.
MODULES := . $(sort $(patsubst %/go.mod,%,$(filter-out ./go.mod,$(shell find . -name go.mod -not -path '*/node_modules/*' -not -path './.git/*'))))

.PHONY: test fmt vet race tidy deps worksum fuzz bench tour load modules

test: fmt tidy vet race deps worksum

modules:
	@echo $(MODULES)

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# go.mod and go.sum of every module are tidy on their own (no go.work).
tidy:
	@set -e; for m in $(MODULES); do \
	  (cd $$m && GOWORK=off $(GO) mod tidy -diff >/dev/null) || { echo "tidy: $$m needs go mod tidy (run it with GOWORK=off)"; exit 1; }; \
	done

# go vet with -race: the same build flags as the tests below, so that both share
# one compilation of every package (without it a cold run compiles everything twice).
vet:
	@set -e; for m in $(MODULES); do echo "go vet -race $$m"; (cd $$m && $(GO) vet -race ./...); done

race:
	@set -e; for m in $(MODULES); do echo "go test -race $$m"; (cd $$m && $(GO) test -race -count=1 ./...); done

# A net/http-only consumer's module graph stays small and framework-free.
deps:
	@scripts/consumer-deps.sh

# go.work.sum is complete: go doc, go list, go mod download (and the go vet and
# go test above) add nothing to it in any module (CONTRIBUTING.md: how to refresh).
worksum:
	@scripts/worksum.sh $(MODULES)

# Short fuzzing runs of every fuzz target (not part of `make test`; FUZZTIME=2m for longer).
FUZZTIME ?= 30s
fuzz:
	$(GO) test -run='^$$' -fuzz='^FuzzDecodeResponse$$' -fuzztime=$(FUZZTIME) ./clerkapi
	cd clerktest/conformance && $(GO) test -run='^$$' -fuzz='^FuzzHandler$$' -fuzztime=$(FUZZTIME) .
	$(GO) test -run='^$$' -fuzz='^FuzzCheckSyntax$$' -fuzztime=$(FUZZTIME) ./verifier
	$(GO) test -run='^$$' -fuzz='^FuzzExtractBearer$$' -fuzztime=$(FUZZTIME) ./middleware
	$(GO) test -run='^$$' -fuzz='^FuzzReason$$' -fuzztime=$(FUZZTIME) ./middleware
	$(GO) test -run='^$$' -fuzz='^FuzzBearerError$$' -fuzztime=$(FUZZTIME) ./m2mclient

bench:
	@set -e; for m in $(MODULES); do (cd $$m && $(GO) test -run='^$$' -bench=. -benchmem -cpu=1,2 ./...); done

tour:
	$(GO) run ./examples/tour

load:
	scripts/loadtest.sh
