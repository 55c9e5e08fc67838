# Every module of the repository: a plain `go test ./...` at the root does not
# reach the nested ones.
MODULES := $(shell find . -name go.mod -not -path './.services/*' -not -path './tools/*' -exec dirname {} \; | sort)
GO ?= go
# The version release-check packs the modules at; every go.mod of the
# repository must require its sibling modules at this version.
RELEASE_VERSION ?= v0.4.0
STATICCHECK := $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2

# FUZZ lists the fuzz targets as package:Target, packages relative to the
# root module. go test -fuzz takes one target per run, hence the list.
FUZZ := ./core:FuzzCookieSession \
	./core:FuzzTokenTransports \
	./core/codec:FuzzTaggedJSON \
	./core/codec:FuzzGobDecode \
	./core/signing:FuzzSignerUnsign \
	./core/signing:FuzzTimedLoads \
	./core/signing:FuzzDjangoLoads
# FUZZTIME is how much each target runs in make test: enough inputs to get
# past the seeds, few enough that the whole step stays near a minute. It is
# a count, not a duration, because go1.26's fuzzer can fail a run that hits
# its duration with a bare "context deadline exceeded" and no failing input
# (go.dev/issue/75804) when the machine is loaded. Fuzz longer by hand,
# e.g. make fuzz FUZZTIME=10m.
FUZZTIME ?= 50000x

.PHONY: test test-only test-clock fuzz bench bench-only lint release-check tag-release services services-stop

# test starts the servers the backend tests need, runs every module's tests
# with the race detector, and stops what it started; then it fuzzes, which
# needs no server.
test:
	@./scripts/services.sh start
	@status=0; $(MAKE) --no-print-directory test-only || status=$$?; \
		./scripts/services.sh stop; exit $$status
	@$(MAKE) --no-print-directory fuzz

test-only:
	@set -e; for m in $(MODULES); do \
		echo "== $$m"; (cd $$m && $(GO) test -race -count=1 ./...); \
	done
	@$(MAKE) --no-print-directory test-clock

# test-clock runs the core's tests again with the local clock 26 hours
# apart, on either side of the date line, so that a test that depends on
# the hour, the date or the time zone fails whenever it runs, not only in
# the hours it was written for. It needs no server.
test-clock:
	@set -e; for tz in Pacific/Kiritimati Etc/GMT+12; do \
		echo "== ./core/... with TZ=$$tz"; \
		TZ=$$tz $(GO) test -count=1 ./core/... ./internal/...; \
	done

# fuzz runs each target of FUZZ for FUZZTIME. Their seed corpora already run
# as ordinary tests in test-only; this explores beyond them. What the fuzzer
# finds interesting stays in the Go build cache; an input that fails is
# written under the package's testdata/fuzz, to be committed with the fix.
fuzz:
	@set -e; for t in $(FUZZ); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "== fuzz $$name ($$pkg, $(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg; \
	done

# bench runs every module's benchmarks, backends against their real servers.
bench:
	@./scripts/services.sh start
	@status=0; $(MAKE) --no-print-directory bench-only || status=$$?; \
		./scripts/services.sh stop; exit $$status

bench-only:
	@set -e; for m in $(MODULES); do \
		echo "== $$m"; (cd $$m && $(GO) test -run '^$$' -bench . -benchmem ./...); \
	done

lint:
	@test -z "$$(gofmt -l .)" || { gofmt -l .; echo "gofmt: files above need formatting"; exit 1; }
	@set -e; for m in $(MODULES); do \
		echo "== $$m"; (cd $$m && $(GO) vet ./... && $(STATICCHECK) ./...); \
	done

# release-check packs the library modules at RELEASE_VERSION into a temporary
# module proxy; compares each module's API with its previous tag and fails
# on incompatible changes RELEASE_VERSION does not allow; builds and tests a
# program outside the repository that gets every module from the proxy with
# go get, as a user of the published modules would; and builds and vets each
# module with the Go release of its go line. It needs the network for the Go
# module proxy (those Go releases). See scripts/release-check.sh.
release-check:
	@RELEASE_VERSION=$(RELEASE_VERSION) GO=$(GO) ./scripts/release-check.sh

# tag-release tags HEAD with RELEASE_VERSION once per released module
# (v0.4.0, adapters/gin/v0.4.0, ...). Run release-check first.
tag-release:
	@RELEASE_VERSION=$(RELEASE_VERSION) GO=$(GO) ./scripts/tag-release.sh

services:
	@./scripts/services.sh start

services-stop:
	@./scripts/services.sh stop
