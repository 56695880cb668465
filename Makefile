# The test command CI runs (see .ci/run and README.md).
GO ?= go

.PHONY: test fmt vet race fuzz bench tour

test: fmt vet race

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

race:
	$(GO) test -race -count=1 ./...

# Short fuzzing runs of every fuzz target (not part of `make test`).
fuzz:
	$(GO) test -run='^$$' -fuzz=. -fuzztime=30s ./clerkapi
	$(GO) test -run='^$$' -fuzz=. -fuzztime=30s ./middleware

bench:
	$(GO) test -run='^$$' -bench=. -benchmem -cpu=1,2 ./...

tour:
	$(GO) run ./examples/tour
