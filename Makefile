# The two commands: `make run` (the tray app; demo mode when no key is set)
# and `make test` (the whole suite). Both install missing system packages
# first (scripts/setup.sh).
SHELL := /bin/bash
.DEFAULT_GOAL := run

# Machines here keep Go in /usr/local/go without putting it on PATH.
ifeq ($(shell command -v go),)
export PATH := $(PATH):/usr/local/go/bin
endif

GO ?= go
# Arguments for the app, e.g. make run ARGS=--demo
ARGS ?=

.PHONY: setup run test bench screenshots lint soak

setup:
	@scripts/setup.sh

run: setup
	$(GO) run ./cmd/ultravox-tray $(ARGS)

test: setup
	scripts/test.sh

bench: setup
	scripts/test.sh --bench

# The fault campaign (internal/campaign) over many seeds, with a table by
# fault kind: make soak SEEDS=2000 [FOR=45m]; make soak SEED=n replays one.
SEEDS ?= 200
soak: setup
	UVT_CAMPAIGN_SEEDS=$(SEEDS) UVT_CAMPAIGN_SEED=$(SEED) UVT_CAMPAIGN_FOR=$(FOR) scripts/test.sh -v -run '^TestCampaign$$' -timeout 0 ./internal/campaign/

screenshots: setup
	scripts/screenshots.sh

lint:
	@out=$$(gofmt -l $$(git ls-files -co --exclude-standard -- '*.go' | grep -v '/testdata/')); \
	if [ -n "$$out" ]; then echo "gofmt -l: these files need gofmt -w:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
