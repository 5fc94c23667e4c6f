#!/usr/bin/env bash
# Builds the app with progress: scripts/build.sh OUT [go build flags...]
#
# The first build on a clean Go cache compiles Fyne's, GLFW's and
# miniaudio's C parts, about five minutes on two cores, and `go build` says
# nothing meanwhile; this says so before it starts and prints each package
# as it is compiled, with a count and the time so far. Later builds take
# seconds and print nothing but the result.
#
# VERSION (default: dev) is stamped into the binary (ultravox-tray --version).
# GOOS, GOARCH, CC, CGO_ENABLED and GOFLAGS pass through to go build.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
	PATH=$PATH:/usr/local/go/bin
fi
out=${1:?usage: scripts/build.sh OUT [go build flags...]}
shift
pkg=./cmd/ultravox-tray
version=${VERSION:-dev}
args=(-ldflags "-s -w -X main.version=$version ${EXTRA_LDFLAGS:-}" "$@")
export CGO_ENABLED=${CGO_ENABLED:-1}

# Modules first (their download prints its own lines), then: is anything
# stale? `go list` answers from the build cache without compiling.
go mod download
stale=$(go list "$@" -f '{{if .Stale}}{{.ImportPath}}{{end}}' -deps "$pkg" 2>/dev/null | grep -c . || true)
total=$(go list "$@" -deps "$pkg" 2>/dev/null | grep -c . || true)
target="$(go env GOOS)/$(go env GOARCH)"
if ((stale > 20)); then
	cat <<MSG
build: compiling $stale of $total packages for $target, including the C parts of Fyne (OpenGL,
build: GLFW) and miniaudio. On a clean Go cache this takes about 5 minutes on 2 cores (1-2 on 8);
build: later builds reuse the cache and take seconds. Progress, one line per package:
MSG
fi
start=$(date +%s)
n=0
set +e
go build -v -o "$out" "${args[@]}" "$pkg" 2>&1 | while IFS= read -r line; do
	case $line in
	*' '* | '#'* | '') printf '%s\n' "$line" ;; # compiler output, warnings, errors
	*)
		n=$((n + 1))
		if ((stale > 20)); then
			printf 'build: [%3d/%d] %4ds  %s\n' "$n" "$stale" $(($(date +%s) - start)) "$line"
		fi
		;;
	esac
done
rc=${PIPESTATUS[0]}
set -e
if ((rc != 0)); then
	echo "build: go build failed (exit $rc)" >&2
	exit "$rc"
fi
echo "build: $out ($target, version $version) in $(($(date +%s) - start))s"
