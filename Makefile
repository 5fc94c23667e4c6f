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

.PHONY: setup run test bench screenshots lint

setup:
	@scripts/setup.sh

run: setup
	$(GO) run ./cmd/ultravox-tray $(ARGS)

test: setup
	scripts/test.sh

bench: setup
	scripts/test.sh --bench

screenshots: setup
	scripts/screenshots.sh

lint:
	@out=$$(gofmt -l $$(git ls-files -co --exclude-standard -- '*.go' | grep -v '/testdata/')); \
	if [ -n "$$out" ]; then echo "gofmt -l: these files need gofmt -w:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# smoke-live checks the app's client against the real Ultravox service with
# your key (keychain or ULTRAVOX_API_KEY): one 20-second agent call, at most
# $0.05. It says what it will do and asks first (ARGS=--yes skips that).
# Never part of `make test` or CI; run it before every release.
.PHONY: smoke-live
smoke-live:
	$(GO) run ./cmd/ultravox-smoke $(ARGS)
