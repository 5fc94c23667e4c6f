#!/usr/bin/env bash
# scripts/stamp-version.sh x.y.z: writes the version into FyneApp.toml
# (Details.Version) and counts up Details.Build when the version changes.
# The binary gets it at build time (scripts/build.sh, -X main.version).
set -euo pipefail
cd "$(dirname "$0")/.."
version=${1:?usage: scripts/stamp-version.sh x.y.z}
old=$(awk -F'"' '/^ *Version *=/ {print $2; exit}' FyneApp.toml)
[[ $old == "$version" ]] && exit 0
build=$(awk '/^ *Build *=/ {print $3; exit}' FyneApp.toml)
sed -i.bak -e "s/^\( *Version *= *\)\"[^\"]*\"/\1\"$version\"/" -e "s/^\( *Build *= *\)[0-9]*/\1$((build + 1))/" FyneApp.toml
rm -f FyneApp.toml.bak
echo "stamp: FyneApp.toml $old -> $version (build $((build + 1)))"
