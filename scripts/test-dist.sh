#!/usr/bin/env bash
# make test-dist: installs dist/ultravox-tray_*.deb with apt-get (so its
# declared dependencies are resolved) and checks what it installed: the
# binary runs and knows its version, the .desktop file and the AppStream
# metainfo validate, the icon is in the hicolor theme. Meant for a fresh
# Debian root (as root), e.g.
#   ../shared/fresh/fresh.sh . 'make dist VERSION=1.2.3 && make test-dist'
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s nullglob
debs=(dist/ultravox-tray_*_amd64.deb)
((${#debs[@]} == 1)) || { echo "test-dist: want one dist/ultravox-tray_*_amd64.deb, found ${#debs[@]} (make dist VERSION=x.y.z)" >&2; exit 1; }
deb=${debs[0]}
version=${deb#dist/ultravox-tray_}
version=${version%_amd64.deb}
sudo=()
[[ $(id -u) -eq 0 ]] || sudo=(sudo)
tools=()
command -v desktop-file-validate >/dev/null 2>&1 || tools+=(desktop-file-utils)
command -v appstreamcli >/dev/null 2>&1 || tools+=(appstream)
# A fresh machine has empty package lists.
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "./$deb" "${tools[@]}"
fail=0
check() { # check DESCRIPTION COMMAND...
	if "${@:2}"; then echo "test-dist: ok: $1"; else echo "test-dist: FAIL: $1" >&2; fail=1; fi
}
got=$(/usr/bin/ultravox-tray --version 2>&1 | tail -n1)
check "ultravox-tray --version says $version (got: $got)" test "$got" = "ultravox-tray $version"
check "the package is installed under /usr" bash -c "dpkg -L ultravox-tray | grep -qx /usr/bin/ultravox-tray"
check "desktop-file-validate" desktop-file-validate /usr/share/applications/ultravox-tray.desktop
check "appstreamcli validate" appstreamcli validate --no-net /usr/share/metainfo/io.github.ultravox-tray.metainfo.xml
for n in 16 32 48 64 128 256 512; do
	check "icon ${n}x${n}" test -s /usr/share/icons/hicolor/${n}x${n}/apps/ultravox-tray.png
done
check "the menu entry names the installed program and icon" grep -qx 'Exec=ultravox-tray' /usr/share/applications/ultravox-tray.desktop
check "declared runtime libraries" bash -c "dpkg-query -W -f='\${Depends}' ultravox-tray | grep -q libspeexdsp1"
check "no missing shared libraries" bash -c "! ldd /usr/bin/ultravox-tray | grep -q 'not found'"
((fail == 0)) || { echo "test-dist: FAILED" >&2; exit 1; }
echo "test-dist: all passed ($deb)"
