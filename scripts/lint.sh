#!/usr/bin/env bash
# make lint: gofmt -l, go vet (and for macOS and Windows where no cgo is
# needed), `go mod tidy` leaves go.mod/go.sum unchanged
# (the app's module and each tool's under tools/), and actionlint on .github/workflows (run
# as a Go tool from tools/actionlint, so a broken workflow fails here, not after a
# push). Every check runs; any failure makes the exit status non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
	PATH=$PATH:/usr/local/go/bin
fi
problems=()

echo "== gofmt -l"
mapfile -t gofiles < <(git ls-files -co --exclude-standard -- '*.go' | grep -v '/testdata/' || true)
out=$(gofmt -l "${gofiles[@]}" 2>&1 || true)
if [[ -n $out ]]; then
	echo "lint: these files need gofmt -w:" >&2
	echo "$out" >&2
	problems+=(gofmt)
fi

echo "== go vet ./..."
go vet ./... || problems+=("go vet")

# macOS and Windows: type-check (vet, tests included) every package that
# needs no cgo there. The rest needs the macOS SDK (Fyne's Cocoa parts,
# the tray) or a mingw build (make test-windows builds those for Windows).
cross() { # cross GOOS EXCLUDED...: go vet with CGO_ENABLED=0 for GOOS
	local goos=$1 pkgs
	shift
	mapfile -t pkgs < <(GOOS=$goos go list ./... | grep -vxF -f <(printf 'github.com/ultravox-tray/ultravox-tray/%s\n' "$@"))
	echo "== GOOS=$goos go vet (${#pkgs[@]} packages without cgo there)"
	GOOS=$goos GOARCH=amd64 CGO_ENABLED=0 go vet "${pkgs[@]}" || problems+=("go vet GOOS=$goos")
}
cross darwin app/voice cmd/ultravox-tray ui secrets
cross windows app/voice cmd/ultravox-tray

# -diff prints what tidy would change and exits non-zero, touching nothing.
for dir in . tools/*/; do
	dir=${dir%/}
	echo "== go mod tidy -diff ($dir)"
	if ! (cd "$dir" && go mod tidy -diff); then
		echo "lint: go mod tidy would change $dir/go.mod or go.sum (run: make tidy)" >&2
		problems+=("go mod tidy ($dir)")
	fi
done

echo "== actionlint"
mapfile -t workflows < <(git ls-files -co --exclude-standard -- '.github/workflows/*.yml' '.github/workflows/*.yaml')
if ((${#workflows[@]})); then
	# Paths relative to tools/actionlint, where the tool's module is.
	(cd tools/actionlint && go tool actionlint "${workflows[@]/#/../../}") || problems+=(actionlint)
else
	echo "lint: no workflows in .github/workflows" >&2
	problems+=(actionlint)
fi

if ((${#problems[@]})); then
	echo "lint: FAILED: ${problems[*]}" >&2
	exit 1
fi
echo "lint: all passed"
