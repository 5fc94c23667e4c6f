#!/usr/bin/env bash
# scripts/macos-bundle.sh BINARY OUTDIR: assembles OUTDIR/Ultravox Tray.app
# from a darwin binary:
#   Contents/Info.plist      bundle id, name, version and build from
#                            FyneApp.toml (VERSION overrides the version);
#                            LSUIElement (menu bar only, no Dock icon);
#                            NSMicrophoneUsageDescription (without it macOS
#                            refuses the microphone)
#   Contents/MacOS/ultravox-tray
#   Contents/Resources/ultravox-tray.icns
# On a Mac it then signs the bundle ad hoc (codesign -s -) so that the
# microphone permission sticks to it; elsewhere it only assembles.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
	PATH=$PATH:/usr/local/go/bin
fi
bin=${1:?usage: scripts/macos-bundle.sh BINARY OUTDIR}
out=${2:?usage: scripts/macos-bundle.sh BINARY OUTDIR}
[[ -f $bin ]] || { echo "macos-bundle: no binary at $bin" >&2; exit 1; }

toml() { # toml KEY: the first "KEY = value" in FyneApp.toml, unquoted
	awk -v k="$1" -F' *= *' '$1 ~ "^ *"k"$" {v=$2; gsub(/^"|"$/, "", v); print v; exit}' FyneApp.toml
}
id=$(toml ID)
name=$(toml Name)
version=${VERSION:-$(toml Version)}
build=$(toml Build)
[[ -n $id && -n $name && -n $version && -n $build ]] || { echo "macos-bundle: FyneApp.toml lacks ID, Name, Version or Build" >&2; exit 1; }
[[ $version =~ ^[0-9]+(\.[0-9]+){0,2}$ ]] || version=0.0.0 # CFBundleShortVersionString: numbers only

app="$out/$name.app"
rm -rf "$app"
mkdir -p "$app/Contents/MacOS" "$app/Contents/Resources"
install -m 0755 "$bin" "$app/Contents/MacOS/ultravox-tray"
icons=$(mktemp -d "${TMPDIR:-/tmp}/uvt-icns.XXXXXX")
trap 'rm -rf "$icons"' EXIT
GOOS=$(go env GOHOSTOS) GOARCH=$(go env GOHOSTARCH) CGO_ENABLED=0 go run ./packaging/icons -out "$icons"
install -m 0644 "$icons/ultravox-tray.icns" "$app/Contents/Resources/"
xmlesc() { sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' <<<"$1"; }
sed -e "s|@ID@|$(xmlesc "$id")|" -e "s|@NAME@|$(xmlesc "$name")|g" -e "s|@VERSION@|$version|" -e "s|@BUILD@|$build|" \
	packaging/macos/Info.plist.in >"$app/Contents/Info.plist"
printf 'APPL????' >"$app/Contents/PkgInfo"

if [[ $(uname -s) == Darwin ]]; then
	plutil -lint "$app/Contents/Info.plist"
	codesign --force --deep --sign - "$app"
fi
echo "macos-bundle: $app ($id $version, build $build)"
