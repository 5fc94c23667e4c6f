#!/usr/bin/env bash
# Installs what `make run` and `make test` need on a Debian/Ubuntu machine,
# and only what is missing (a quick no-op when everything is there). Run as
# root or with sudo available. Go itself is checked, not installed: see below.
set -euo pipefail
cd "$(dirname "$0")/.."

# Fyne's cgo build: gcc pkg-config libgl1-mesa-dev xorg-dev libxkbcommon-dev.
# Headless desktop for tests: xvfb xauth dbus dbus-x11 gnome-keyring
# libsecret-tools (secret-tool) x11-utils (xdpyinfo). Audio: pulseaudio
# pulseaudio-utils (pactl, parec, pacat) espeak-ng sox libspeexdsp-dev.
# Screenshots: xfce4-panel dunst imagemagick x11-apps. Plumbing: make git
# ca-certificates.
packages=(
	gcc pkg-config libgl1-mesa-dev xorg-dev libxkbcommon-dev
	xvfb xauth dbus dbus-x11 gnome-keyring libsecret-tools x11-utils
	pulseaudio pulseaudio-utils espeak-ng sox libspeexdsp-dev
	xfce4-panel dunst imagemagick x11-apps
	ca-certificates git make
)

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
	installed=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${packages[@]}" 2>/dev/null | awk '$2 == "installed" {print $1}' || true)
	for p in "${packages[@]}"; do
		grep -qx -- "$p" <<<"$installed" || missing+=("$p")
	done
else
	echo "setup: this is not a Debian/Ubuntu system (no dpkg-query)." >&2
	echo "setup: install the equivalents of: ${packages[*]}" >&2
	exit 1
fi

if ((${#missing[@]})); then
	echo "setup: installing ${missing[*]}"
	sudo=()
	if [[ $(id -u) -ne 0 ]]; then
		if command -v sudo >/dev/null 2>&1; then
			sudo=(sudo)
		else
			echo "setup: missing packages (${missing[*]}) and not root, and there is no sudo." >&2
			echo "setup: run as root: apt-get update && apt-get install -y ${missing[*]}" >&2
			exit 1
		fi
	fi
	export DEBIAN_FRONTEND=noninteractive
	# A fresh machine has empty package lists; refresh them before installing.
	"${sudo[@]}" apt-get update -qq
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Go: the version go.mod asks for (its "go" line) or newer.
want=$(awk '$1 == "go" {print $2; exit}' go.mod)
gobin=$(command -v go || true)
if [[ -z $gobin && -x /usr/local/go/bin/go ]]; then
	gobin=/usr/local/go/bin/go
	echo "setup: Go is at /usr/local/go/bin but not on PATH; add it: export PATH=\$PATH:/usr/local/go/bin" >&2
	echo "setup: (make adds it for its own commands)" >&2
fi
if [[ -z $gobin ]]; then
	cat >&2 <<MSG
setup: Go is not installed. This project needs Go $want or newer.
setup: get it from https://go.dev/dl/ (Debian's golang package is too old), e.g.:
setup:   curl -fsSLO https://go.dev/dl/go$want.linux-amd64.tar.gz
setup:   rm -rf /usr/local/go && tar -C /usr/local -xzf go$want.linux-amd64.tar.gz
setup:   export PATH=\$PATH:/usr/local/go/bin
MSG
	exit 1
fi
have=$(GOTOOLCHAIN=local "$gobin" env GOVERSION 2>/dev/null || true)
have=${have#go}
if [[ -z $have ]] || [[ $(printf '%s\n%s\n' "$want" "$have" | sort -V | head -n1) != "$want" ]]; then
	cat >&2 <<MSG
setup: $gobin is Go ${have:-of unknown version}; this project needs Go $want or newer.
setup: get it from https://go.dev/dl/go$want.linux-amd64.tar.gz (unpack to /usr/local, put
setup: /usr/local/go/bin first on PATH), or let Go fetch it: GOTOOLCHAIN=go$want go version
MSG
	exit 1
fi
