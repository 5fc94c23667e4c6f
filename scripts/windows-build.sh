#!/usr/bin/env bash
# scripts/windows-build.sh OUT.exe [go build flags...]: the Windows binary,
# cross-built with mingw-w64 on Linux (CC=x86_64-w64-mingw32-gcc) or built
# with the runner's gcc on Windows, with the icon, manifest and version info
# linked in (windres -> a .syso beside main.go, removed afterwards) and no
# console window (-H windowsgui; CONSOLE=1 keeps one, for tests).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
	PATH=$PATH:/usr/local/go/bin
fi
out=${1:?usage: scripts/windows-build.sh OUT.exe [go build flags...]}
shift
version=${VERSION:-0.0.0}
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || version=0.0.0
export GOOS=windows GOARCH=amd64 CGO_ENABLED=1
if [[ $(uname -s) == Linux ]]; then
	export CC=${CC:-x86_64-w64-mingw32-gcc}
	windres=${WINDRES:-x86_64-w64-mingw32-windres}
	if ! command -v "$CC" >/dev/null 2>&1; then
		echo "windows-build: $CC is missing; on Debian/Ubuntu: apt-get install gcc-mingw-w64-x86-64" >&2
		exit 1
	fi
else
	export CC=${CC:-gcc}
	windres=${WINDRES:-windres}
fi

res=$(mktemp -d "${TMPDIR:-/tmp}/uvt-res.XXXXXX")
syso=cmd/ultravox-tray/zz_resources_windows_amd64.syso
trap 'rm -rf "$res" "$syso"' EXIT
GOOS=$(go env GOHOSTOS) GOARCH=$(go env GOHOSTARCH) CGO_ENABLED=0 go run ./packaging/icons -out "$res"
cp packaging/windows/ultravox-tray.exe.manifest packaging/windows/ultravox-tray.rc "$res/"
commas="${version//./,},0"
sed -i -e "s/@WINVERSION@/$version.0/" "$res/ultravox-tray.exe.manifest"
sed -i -e "s/@WINVERSION_COMMAS@/$commas/" -e "s/@VERSION@/${VERSION:-dev}/" "$res/ultravox-tray.rc"
(cd "$res" && "$windres" -O coff -i ultravox-tray.rc -o resources.syso)
cp "$res/resources.syso" "$syso"

gui="-H windowsgui"
[[ ${CONSOLE:-} == 1 ]] && gui=""
EXTRA_LDFLAGS="$gui" scripts/build.sh "$out" "$@"
