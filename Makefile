# The two commands: `make run` (the tray app; demo mode when no key is set)
# and `make test` (the whole suite). Both install missing system packages
# first (scripts/setup.sh): `make run` only what building and running needs,
# `make test` also the test rig's.
SHELL := /bin/bash
.DEFAULT_GOAL := run

# Machines here keep Go in /usr/local/go without putting it on PATH.
ifeq ($(shell command -v go),)
export PATH := $(PATH):/usr/local/go/bin
endif

GO ?= go
# Arguments for the app, e.g. make run ARGS=--demo
ARGS ?=
# The version stamped into the binary and the packages: make dist VERSION=1.2.3
# (required there; `make build` says "dev" without it).
export VERSION

# macOS: libspeexdsp from Homebrew when present (echo cancellation), else
# the build leaves it out (-tags nospeex) and says so in Settings.
ifeq ($(shell uname -s),Darwin)
SPEEX := $(shell brew --prefix speexdsp 2>/dev/null)
ifneq ($(wildcard $(SPEEX)/include/speex/speex_echo.h),)
export CGO_CFLAGS += -I$(SPEEX)/include
export CGO_LDFLAGS += -L$(SPEEX)/lib
else
BUILDFLAGS += -tags nospeex
endif
endif

.PHONY: setup run build test test-portable bench screenshots lint tidy dist dist-linux dist-windows test-windows test-dist macos-app clean soak

setup:
	@scripts/setup.sh run

build: setup
	@VERSION=$${VERSION:-dev} scripts/build.sh bin/ultravox-tray $(BUILDFLAGS)

run: build
	bin/ultravox-tray $(ARGS)

test:
	@scripts/setup.sh test
	scripts/test.sh

# The tests that need no Linux desktop rig (what macOS and Windows CI run).
test-portable:
	scripts/test-portable.sh

bench:
	@scripts/setup.sh test
	scripts/test.sh --bench

# The fault campaign (internal/campaign) over many seeds, with a table by
# fault kind: make soak SEEDS=2000 [FOR=45m]; make soak SEED=n replays one.
SEEDS ?= 200
soak:
	@scripts/setup.sh test
	UVT_CAMPAIGN_SEEDS=$(SEEDS) UVT_CAMPAIGN_SEED=$(SEED) UVT_CAMPAIGN_FOR=$(FOR) scripts/test.sh -v -run '^TestCampaign$$' -timeout 0 ./internal/campaign/

screenshots:
	@scripts/setup.sh shots
	scripts/screenshots.sh

# gofmt, go vet, go.mod/go.sum tidy (app and tools), the workflows (actionlint).
lint:
	scripts/lint.sh

tidy:
	$(GO) mod tidy
	for d in tools/*/; do (cd $$d && $(GO) mod tidy); done

# dist/: Linux .tar.xz and .deb (on Linux), Windows zip (make dist-windows).
dist: dist-linux

dist-linux:
	@scripts/setup.sh dist
	scripts/dist-linux.sh

dist-windows:
	scripts/dist-windows.sh

# The Windows build under Wine and Xvfb (demo, simulator, keychain, calls,
# end-session, suspend).
test-windows:
	scripts/test-windows.sh

# The .deb installs and validates (run inside a fresh Debian; see README).
test-dist:
	scripts/test-dist.sh

# macOS: Ultravox Tray.app from a darwin binary (on a Mac: make macos-app).
macos-app: build
	scripts/macos-bundle.sh bin/ultravox-tray dist

clean:
	rm -rf bin dist

# smoke-live checks the app's client against the real Ultravox service with
# your key (keychain or ULTRAVOX_API_KEY): one 20-second agent call, at most
# $0.05. It says what it will do and asks first (ARGS=--yes skips that).
# Never part of `make test` or CI; run it before every release.
.PHONY: smoke-live
smoke-live:
	$(GO) run ./cmd/ultravox-smoke $(ARGS)
