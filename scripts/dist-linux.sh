#!/usr/bin/env bash
# make dist VERSION=x.y.z (on Linux): writes to dist/
#   ultravox-tray-VERSION-linux-amd64.tar.xz  usr/bin, .desktop, hicolor
#                                             icons, AppStream metainfo
#   ultravox-tray_VERSION_amd64.deb           the same tree under /usr, with
#                                             its runtime libraries declared
#                                             (nfpm, tools/nfpm)
# The version is stamped into the binary (ultravox-tray --version) and
# FyneApp.toml, and checked with desktop-file-validate and appstreamcli.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
	PATH=$PATH:/usr/local/go/bin
fi
version=${VERSION:?set VERSION, e.g. make dist VERSION=1.2.3}
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "dist: VERSION must be x.y.z, got $version" >&2; exit 1; }
export VERSION=$version

scripts/stamp-version.sh "$version"

stage=$(mktemp -d "${TMPDIR:-/tmp}/uvt-dist.XXXXXX")
trap 'rm -rf "$stage"' EXIT
root=$stage/root
mkdir -p dist "$root/usr/bin" "$root/usr/share/applications" "$root/usr/share/metainfo" "$root/usr/share/icons"

scripts/build.sh "$root/usr/bin/ultravox-tray" -trimpath
go run ./packaging/icons -out "$stage/icons"
cp -r "$stage/icons/hicolor" "$root/usr/share/icons/"
install -m 0644 packaging/linux/ultravox-tray.desktop "$root/usr/share/applications/"
sed -e "s/@VERSION@/$version/" -e "s/@DATE@/$(date -u +%F)/" packaging/linux/io.github.ultravox-tray.metainfo.xml \
	>"$root/usr/share/metainfo/io.github.ultravox-tray.metainfo.xml"

desktop-file-validate "$root/usr/share/applications/ultravox-tray.desktop"
appstreamcli validate --no-net "$root/usr/share/metainfo/io.github.ultravox-tray.metainfo.xml"
got=$("$root/usr/bin/ultravox-tray" --version 2>&1 | tail -n1)
[[ $got == "ultravox-tray $version" ]] || { echo "dist: --version says \"$got\"" >&2; exit 1; }

name=ultravox-tray-$version-linux-amd64
tar -C "$root" --owner=0 --group=0 --sort=name --transform "s|^\.|$name|" -cJf "dist/$name.tar.xz" .
echo "dist: dist/$name.tar.xz"

deb=dist/ultravox-tray_${version}_amd64.deb
sed -e "s|\${STAGE}|$root|g" -e "s|\${VERSION}|$version|g" packaging/nfpm.yaml >"$stage/nfpm.yaml"
(cd tools/nfpm && go tool nfpm package --config "$stage/nfpm.yaml" --packager deb --target "$OLDPWD/$deb")
echo "dist: $deb"
