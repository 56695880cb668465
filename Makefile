# The test command CI runs (see .ci/run and README.md).
GO ?= go

.PHONY: test fmt vet race fuzz bench tour load

test: fmt vet race

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

race:
	$(GO) test -race -count=1 ./...

# Short fuzzing runs of every fuzz target (not part of `make test`; FUZZTIME=2m for longer).
FUZZTIME ?= 30s
fuzz:
	$(GO) test -run='^$$' -fuzz='^FuzzDecodeResponse$$' -fuzztime=$(FUZZTIME) ./clerkapi
	$(GO) test -run='^$$' -fuzz='^FuzzHandler$$' -fuzztime=$(FUZZTIME) ./clerktest
	$(GO) test -run='^$$' -fuzz='^FuzzCheckSyntax$$' -fuzztime=$(FUZZTIME) ./verifier
	$(GO) test -run='^$$' -fuzz='^FuzzExtractBearer$$' -fuzztime=$(FUZZTIME) ./middleware
	$(GO) test -run='^$$' -fuzz='^FuzzBearerError$$' -fuzztime=$(FUZZTIME) ./m2mclient

bench:
	$(GO) test -run='^$$' -bench=. -benchmem -cpu=1,2 ./...

tour:
	$(GO) run ./examples/tour

load:
	scripts/loadtest.sh
