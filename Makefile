# Build, install and test the Celonis plugin for Steampipe.
SHELL       := /bin/bash
.SHELLFLAGS := -o pipefail -c
GO          ?= go
BINARY      := steampipe-plugin-celonis
PLUGIN_DIR  := $(HOME)/.steampipe/plugins/local/celonis
CONFIG_DIR  := $(HOME)/.steampipe/config

# Packages whose tests run under the race detector. The SDK-driven table
# tests are left out: the SDK v5.14.1 Execute path has data races of its own.
RACE_PKGS   := ./config/... ./internal/sqlengine/... ./internal/onecpu/... ./celonis/platform/... ./make/makeapi/... ./internal/httpx/... ./internal/lenient/... ./internal/sandbox/... ./internal/timerange/... ./internal/column/...

# The query command's SQLite module (internal/sqlengine/module.go) must hand
# the transpiled SQLite only SQLite's own memory, never Go memory. Go's
# checkptr instrumentation, which -race turns on, stops a program that does;
# the tests that scan tables through the SDK cannot run under -race, so the
# main test run turns on checkptr alone, in modernc's code and this module's.
CHECKPTR    := -gcflags=modernc.org/...=-d=checkptr -gcflags=github.com/celonis-audit/...=-d=checkptr

# Fuzz targets (package:target); CI runs each for FUZZTIME. An execution
# count, not a duration: with a duration, Go 1.26's fuzz coordinator can
# fail a target with "context deadline exceeded" when -fuzztime expires on
# a loaded machine (golang/go#75804, fixed in Go 1.27); seen here once.
FUZZ        := celonis/platform:FuzzDecodeAuditPage celonis/platform:FuzzDecodeOtherPages \
               celonis/platform:FuzzParseUserID celonis/platform:FuzzParseNameAndEmail celonis/platform:FuzzEntryKey \
               celonis/platform:FuzzFastDecoder make/makeapi:FuzzFastDecoder \
               make/makeapi:FuzzDecodeAuditPage make/makeapi:FuzzDecodeFiltersAndOrganizations \
               internal/lenient:FuzzParseTime internal/lenient:FuzzScalars internal/lenient:FuzzArrayElements internal/lenient:FuzzValid \
               internal/lenient:FuzzPlain internal/lenient:FuzzCompact \
               internal/cli:FuzzAppendJSON
FUZZTIME    ?= 30000x

# The plugin's binary hands freed memory back to Linux with MADV_FREE
# instead of the Go runtime's default MADV_DONTNEED, so that the pages the
# SDK's debug.FreeOSMemory() returns every 100 rows are not faulted in
# again by the next rows (README, "Memory"). A compiled-in GODEBUG default,
# after the one the go command computes for this module; GODEBUG in the
# environment still overrides it.
comma       := ,
GODEBUG_MOD := $(shell $(GO) list -f '{{.DefaultGODEBUG}}' . 2>/dev/null)
LDFLAGS     := -X=runtime.godebugDefault=$(GODEBUG_MOD)$(if $(GODEBUG_MOD),$(comma))madvdontneed=0

.PHONY: build install test vet demo fuzz bench

build:
	CGO_ENABLED=0 $(GO) build -ldflags '$(LDFLAGS)' -o $(BINARY) .
	$(GO) version -m $(BINARY) | grep -q 'godebugDefault=.*madvdontneed=0' \
	  || { echo "$(BINARY) lacks madvdontneed=0 in its GODEBUG default"; exit 1; }

install: build
	mkdir -p $(PLUGIN_DIR)
	cp $(BINARY) $(PLUGIN_DIR)/celonis.plugin
	mkdir -p $(CONFIG_DIR)
	test -f $(CONFIG_DIR)/celonis.spc || cp config/celonis.spc $(CONFIG_DIR)/celonis.spc

vet:
	$(GO) vet ./...

test: vet build
	STEAMPIPE_LOG_LEVEL=ERROR $(GO) test -count=1 $(CHECKPTR) -skip TestFaultSuite ./...
	CGO_ENABLED=1 $(GO) test -race -count=1 $(RACE_PKGS)
	$(GO) test -count=1 -run TestFaultSuite -v ./internal/faultsuite | grep -E '^(faults:|--- FAIL|FAIL|ok)|^ +(--- FAIL|faults_test)'
	$(MAKE) --no-print-directory fuzz
	./scripts/demo.sh ./$(BINARY) >/dev/null

fuzz:
	@for f in $(FUZZ); do \
	  pkg=$${f%%:*}; target=$${f##*:}; \
	  echo "fuzz $$pkg $$target ($(FUZZTIME))"; \
	  $(GO) test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) ./$$pkg >/tmp/fuzz-$$target.log 2>&1 \
	    || { cat /tmp/fuzz-$$target.log; exit 1; }; \
	done

# From a fresh clone: build, start the sandbox, run example queries, stop.
demo: build
	./scripts/demo.sh ./$(BINARY)

# Speed and memory figures against the sandbox (a program, not a timed
# test); its gRPC parts run the plugin binary that build makes.
BENCH_ROWS  ?= 200000
BENCH_FLAGS ?=
bench: build
	BENCH_PLUGIN=$(CURDIR)/$(BINARY) $(GO) run -ldflags '$(LDFLAGS)' ./internal/bench -rows $(BENCH_ROWS) $(BENCH_FLAGS)
