#!/usr/bin/env bash
# Checks (and on Debian/Ubuntu installs) what the app needs, and only what is
# missing: a quick no-op when everything is there.
#
#   scripts/setup.sh          build and run: C compiler, pkg-config, GL/X11
#                             and xkbcommon headers, libspeexdsp (make run)
#   scripts/setup.sh test     plus the test rig: Xvfb, D-Bus, gnome-keyring,
#                             PulseAudio, espeak-ng, sox, gdbus (make test)
#   scripts/setup.sh shots    plus xfce4-panel, dunst, ImageMagick (make screenshots)
#   scripts/setup.sh dist     plus the packaging checks (make dist)
#
# Debian/Ubuntu: installs the missing packages with apt-get (as root, or with
# sudo). Fedora, Arch, openSUSE: names the missing packages in that
# distribution's own names with the command to install them, and stops.
# macOS: checks the Xcode command line tools (and Homebrew's speexdsp, which
# is optional). Go itself is checked everywhere, never installed.
set -euo pipefail
cd "$(dirname "$0")/.."

level=${1:-run}
case $level in
run | test | shots | dist) ;;
*)
	echo "usage: scripts/setup.sh [run|test|shots|dist]" >&2
	exit 2
	;;
esac
wants() { # wants LEVEL: is LEVEL's group part of this setup?
	case $1 in
	run) return 0 ;;
	test) [[ $level == test || $level == shots ]] ;;
	shots) [[ $level == shots ]] ;;
	dist) [[ $level == dist ]] ;;
	esac
}

# One requirement a line: group, probe, then the package names on Debian,
# Fedora, Arch and openSUSE ("-" where the distribution needs nothing extra,
# words joined by "+" when it takes several packages). The probe says
# whether the requirement is met: cmd:NAME (a program on PATH) or pc:NAME
# (pkg-config finds the library's headers).
requirements='
run   cmd:gcc              gcc               gcc                  gcc              gcc
run   cmd:pkg-config       pkg-config        pkgconf-pkg-config   pkgconf          pkgconf-pkg-config
run   pc:gl                libgl1-mesa-dev   mesa-libGL-devel     mesa             Mesa-libGL-devel
run   pc:x11               xorg-dev          libX11-devel+libXcursor-devel+libXrandr-devel+libXinerama-devel+libXi-devel+libXxf86vm-devel   libx11+libxcursor+libxrandr+libxinerama+libxi+libxxf86vm   libX11-devel+libXcursor-devel+libXrandr-devel+libXinerama-devel+libXi-devel+libXxf86vm-devel
run   pc:xkbcommon         libxkbcommon-dev  libxkbcommon-devel   libxkbcommon     libxkbcommon-devel
run   pc:speexdsp          libspeexdsp-dev   speexdsp-devel       speexdsp         speexdsp-devel
run   cmd:git              git               git                  git              git
test  cmd:Xvfb             xvfb              xorg-x11-server-Xvfb xorg-server-xvfb xorg-x11-server-Xvfb
test  cmd:xauth            xauth             xorg-x11-xauth       xorg-xauth       xauth
test  cmd:xdpyinfo         x11-utils         xdpyinfo             xorg-xdpyinfo    xdpyinfo
test  cmd:dbus-daemon      dbus              dbus-daemon          dbus             dbus-1
test  cmd:dbus-launch      dbus-x11          dbus-x11             dbus             dbus-1-x11
test  cmd:gdbus            libglib2.0-bin    glib2                glib2            glib2-tools
test  cmd:gnome-keyring-daemon gnome-keyring gnome-keyring        gnome-keyring    gnome-keyring
test  cmd:secret-tool      libsecret-tools   libsecret            libsecret        secret-tool
test  cmd:pulseaudio       pulseaudio        pulseaudio           pulseaudio       pulseaudio
test  cmd:pactl            pulseaudio-utils  pulseaudio-utils     libpulse         pulseaudio-utils
test  cmd:espeak-ng        espeak-ng         espeak-ng            espeak-ng        espeak-ng
test  cmd:sox              sox               sox                  sox              sox
shots cmd:xfce4-panel      xfce4-panel       xfce4-panel          xfce4-panel      xfce4-panel
shots cmd:dunst            dunst             dunst                dunst            dunst
shots cmd:convert          imagemagick       ImageMagick          imagemagick      ImageMagick
shots cmd:xwd              x11-apps          xwd                  xorg-xwd         xwd
dist  cmd:desktop-file-validate desktop-file-utils desktop-file-utils desktop-file-utils desktop-file-utils
dist  cmd:appstreamcli     appstream         appstream            appstream        AppStream
dist  cmd:xz               xz-utils          xz                   xz               xz
dist  cmd:zip            zip               zip                  zip              zip
'

probe() {
	case $1 in
	cmd:*) command -v "${1#cmd:}" >/dev/null 2>&1 ;;
	pc:*) command -v pkg-config >/dev/null 2>&1 && pkg-config --exists "${1#pc:}" ;;
	esac
}

# missing_for COLUMN: the packages (column 3 Debian, 4 Fedora, 5 Arch,
# 6 openSUSE) of the requirements whose probe fails.
missing_for() {
	local col=$1 group probe names
	local -a rest
	while read -r group probe rest_line; do
		[[ -n $group ]] || continue
		wants "$group" || continue
		probe "$probe" && continue
		read -r -a rest <<<"$rest_line"
		names=${rest[col - 3]}
		[[ $names == - ]] && continue
		tr '+' '\n' <<<"$names"
	done <<<"$requirements" | awk '!seen[$0]++'
}

check_go() {
	# Go: the version go.mod asks for (its "go" line) or newer.
	local want gobin have
	want=$(awk '$1 == "go" {print $2; exit}' go.mod)
	gobin=$(command -v go || true)
	if [[ -z $gobin && -x /usr/local/go/bin/go ]]; then
		gobin=/usr/local/go/bin/go
		echo "setup: Go is at /usr/local/go/bin but not on PATH (make adds it for its own commands)." >&2
	fi
	if [[ -z $gobin ]]; then
		cat >&2 <<MSG
setup: Go is not installed. This project needs Go $want or newer.
setup: get it from https://go.dev/dl/ (distribution packages are often too old), e.g. on Linux:
setup:   curl -fsSLO https://go.dev/dl/go$want.linux-amd64.tar.gz
setup:   rm -rf /usr/local/go && tar -C /usr/local -xzf go$want.linux-amd64.tar.gz
setup:   export PATH=\$PATH:/usr/local/go/bin
setup: on macOS: the .pkg from https://go.dev/dl/ or \`brew install go\`.
MSG
		exit 1
	fi
	have=$(GOTOOLCHAIN=local "$gobin" env GOVERSION 2>/dev/null || true)
	have=${have#go}
	if [[ -z $have ]] || [[ $(printf '%s\n%s\n' "$want" "$have" | sort -V | head -n1) != "$want" ]]; then
		cat >&2 <<MSG
setup: $gobin is Go ${have:-of unknown version}; this project needs Go $want or newer.
setup: get it from https://go.dev/dl/ (unpack to /usr/local, put /usr/local/go/bin first on
setup: PATH), or let Go fetch it: GOTOOLCHAIN=go$want go version
MSG
		exit 1
	fi
}

if [[ $(uname -s) == Darwin ]]; then
	if ! xcode-select -p >/dev/null 2>&1; then
		echo "setup: the Xcode command line tools are missing (Fyne needs a C compiler and the macOS SDK)." >&2
		echo "setup: install them with: xcode-select --install   (then run make again)" >&2
		exit 1
	fi
	if [[ $level == test || $level == shots ]]; then
		echo "setup: note: the full suite needs the Linux desktop rig; on macOS \`make test\` runs the" >&2
		echo "setup: tests that do not (see scripts/test-portable.sh)." >&2
	fi
	check_go
	exit 0
fi

if [[ ! -r /etc/os-release ]]; then
	echo "setup: unknown system (no /etc/os-release). The app needs: a C compiler, pkg-config and" >&2
	echo "setup: the headers of OpenGL, X11 (Xcursor, Xrandr, Xinerama, Xi, Xxf86vm), xkbcommon, speexdsp." >&2
	check_go
	exit 1
fi
# shellcheck disable=SC1091
os_id=$(. /etc/os-release && echo "${ID:-} ${ID_LIKE:-}")
family=
for w in $os_id; do
	case $w in
	debian | ubuntu) family=debian ;;
	fedora | rhel | centos) family=fedora ;;
	arch | manjaro | endeavouros) family=arch ;;
	opensuse* | suse | sles) family=suse ;;
	esac
	[[ -n $family ]] && break
done

case $family in
debian)
	# Debian: check the packages themselves (a probe can be satisfied by a
	# stray copy; dpkg says exactly what is installed), then install.
	mapfile -t want < <(
		while read -r group probe deb rest; do
			[[ -n $group ]] && wants "$group" && tr '+' '\n' <<<"$deb"
		done <<<"$requirements" | awk '!seen[$0]++'
	)
	want+=(ca-certificates make)
	installed=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${want[@]}" 2>/dev/null | awk '$2 == "installed" {print $1}' || true)
	missing=()
	for p in "${want[@]}"; do
		grep -qx -- "$p" <<<"$installed" || missing+=("$p")
	done
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
		# A fresh machine has empty package lists; refresh them before installing.
		"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
		"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
	fi
	;;
fedora | arch | suse)
	case $family in
	fedora) col=4 cmd="sudo dnf install" ;;
	arch) col=5 cmd="sudo pacman -S --needed" ;;
	suse) col=6 cmd="sudo zypper install" ;;
	esac
	mapfile -t missing < <(missing_for "$col")
	if ((${#missing[@]})); then
		echo "setup: missing on this system (${family}): ${missing[*]}" >&2
		echo "setup: install them with:" >&2
		echo "  $cmd ${missing[*]}" >&2
		exit 1
	fi
	;;
*)
	mapfile -t missing < <(missing_for 3)
	if ((${#missing[@]})); then
		echo "setup: this system ($os_id) is not one setup knows; missing (Debian names): ${missing[*]}" >&2
		echo "setup: install the equivalents with your package manager." >&2
		exit 1
	fi
	;;
esac
check_go
