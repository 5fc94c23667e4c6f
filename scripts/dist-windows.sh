#!/usr/bin/env bash
# make dist-windows VERSION=x.y.z: dist/ultravox-tray-VERSION-windows-amd64.zip
# with ultravox-tray.exe (icon, manifest and version info embedded, no
# console window) and a short README.txt. Cross-built with mingw-w64 on
# Linux; on Windows with the gcc on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
version=${VERSION:?set VERSION, e.g. make dist-windows VERSION=1.2.3}
export VERSION=$version
scripts/stamp-version.sh "$version"
stage=$(mktemp -d "${TMPDIR:-/tmp}/uvt-win.XXXXXX")
trap 'rm -rf "$stage"' EXIT
name=ultravox-tray-$version-windows-amd64
mkdir -p "$stage/$name" dist
scripts/windows-build.sh "$stage/$name/ultravox-tray.exe" -trimpath
cat >"$stage/$name/README.txt" <<TXT
Ultravox Tray $version for Windows 10 and 11 (64-bit)

Unzip anywhere and start ultravox-tray.exe. The icon appears in the
notification area (click ^ next to the clock if it is hidden; drag it out to
keep it visible). Without an API key it starts in demo mode. The key you enter
in Settings is kept in Windows Credential Manager (service "ultravox-tray").
Windows asks once for microphone access on the first call (Settings >
Privacy > Microphone > "Let desktop apps access your microphone").
Settings: %APPDATA%\\ultravox-tray; call journal: %LOCALAPPDATA%\\ultravox-tray.
Echo cancellation is not available in this build (headset recommended).
TXT
sed -i 's/$/\r/' "$stage/$name/README.txt"
out=$PWD/dist/$name.zip
rm -f "$out"
if command -v zip >/dev/null 2>&1; then
	(cd "$stage" && zip -qr "$out" "$name")
else # Windows runners: PowerShell
	(cd "$stage" && powershell -NoProfile -Command "Compress-Archive -Path '$name' -DestinationPath '$(cygpath -w "$out" 2>/dev/null || echo "$out")'")
fi
echo "dist: dist/$name.zip"
