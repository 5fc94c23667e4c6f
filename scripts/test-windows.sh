#!/usr/bin/env bash
# make test-windows: the Windows build, cross-built with mingw-w64, run under
# Wine on a private Xvfb display, as a Windows user and Windows itself would
# drive it (packaging/windows/wine/winctl sends the messages):
#   1. demo mode: starts, Start call from the tray menu starts a call, Quit
#      ends it and exits;
#   2. the API key is stored in Credential Manager and read back; the app,
#      pointed at the simulator with no key in its environment, takes it
#      from there;
#   3. a call created from the tray menu and ended with "End call" (the
#      simulator sees it created, then ended);
#   4. suspend (WM_POWERBROADCAST/PBT_APMSUSPEND) ends a live call;
#   5. `wineboot --end-session` with a live call ends it and the app exits.
# Wine 8 lacks ProcessPrng in bcryptprimitives.dll, which Go's runtime
# needs: a shim DLL (packaging/windows/wine/processprng.c) goes into the
# test's own Wine prefix. Nothing touches the tray while the session ends
# (fyne.io/systray holds its lock across Shell_NotifyIconW).
#
# Installs wine, mingw-w64, Xvfb and curl on Debian/Ubuntu when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
	PATH=$PATH:/usr/local/go/bin
fi

need=()
command -v wine >/dev/null 2>&1 || need+=(wine wine64)
command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 || need+=(gcc-mingw-w64-x86-64)
command -v Xvfb >/dev/null 2>&1 || need+=(xvfb xauth)
command -v curl >/dev/null 2>&1 || need+=(curl)
if ((${#need[@]})); then
	command -v apt-get >/dev/null 2>&1 || { echo "test-windows: install ${need[*]} (Debian names)" >&2; exit 1; }
	sudo=()
	[[ $(id -u) -eq 0 ]] || sudo=(sudo)
	echo "test-windows: installing ${need[*]}"
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/uvt-wine.XXXXXX")
pids=()
cleanup() {
	local rc=$?
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	[[ -n ${WINEPREFIX:-} ]] && timeout 20 wineserver -k 2>/dev/null || true
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	if ((rc != 0)) && [[ -d $work ]]; then
		for f in "$work"/*.log; do
			echo "---- $(basename "$f") (last 40 lines)" >&2
			tail -n 40 "$f" >&2
		done
	fi
	rm -rf "$work"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step() { echo "== $*"; }
fail() {
	echo "test-windows: FAIL: $*" >&2
	failed=$((failed + 1))
}
failed=0
passed=0
ok() {
	echo "test-windows: ok: $*"
	passed=$((passed + 1))
}

step "build (windows/amd64, mingw-w64), winctl, simulator"
VERSION=${VERSION:-0.0.0} scripts/windows-build.sh "$work/ultravox-tray.exe" -trimpath >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; exit 1; }
tail -n1 "$work/build.log"
GOOS=windows GOARCH=amd64 CGO_ENABLED=0 go build -o "$work/winctl.exe" ./packaging/windows/wine/winctl
go build -o "$work/ultravox-sim" ./cmd/ultravox-sim
x86_64-w64-mingw32-gcc -O2 -shared -o "$work/bcryptprimitives.dll" \
	packaging/windows/wine/processprng.c packaging/windows/wine/processprng.def -ladvapi32

step "Xvfb and a Wine prefix"
exec {dfd}<> <(:)
Xvfb -displayfd "$dfd" -screen 0 1280x800x24 -nolisten tcp >"$work/xvfb.log" 2>&1 &
pids+=($!)
read -r -t 15 -u "$dfd" dnum || { echo "test-windows: Xvfb did not start" >&2; exit 1; }
export DISPLAY=:$dnum
export WINEPREFIX=$work/prefix WINEDEBUG=-all WINEARCH=win64
# No Mono or Gecko installer prompts in a headless prefix.
export WINEDLLOVERRIDES="mscoree,mshtml="
timeout 120 wineboot --init >"$work/wineboot.log" 2>&1
cp "$work/bcryptprimitives.dll" "$WINEPREFIX/drive_c/windows/system32/"
winctl() { timeout 60 wine "$work/winctl.exe" "$@"; }
# winctl choose ITEM opens the tray menu and picks ITEM with the keyboard;
# each choice is checked by its effect (see winctl's doc).

# app LOG ARGS...: starts the app in the background; $app is its pid.
app() {
	local log=$1
	shift
	wine "$work/ultravox-tray.exe" --no-audio "$@" >"$work/$log" 2>&1 &
	app=$!
	pids+=("$app")
}
# gone PID SECONDS: waits for PID to exit.
gone() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}
# wait_for SECONDS CMD...: retries CMD until it succeeds.
wait_for() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		((SECONDS < end)) || return 1
		sleep 0.3
	done
}

sim_key=sim-wine-key
"$work/ultravox-sim" -addr 127.0.0.1:0 -key "$sim_key" -voice synth -settle 0 >"$work/sim.log" 2>&1 &
pids+=($!)
wait_for 15 grep -q '^Ultravox simulator listening on ' "$work/sim.log"
sim_url=$(sed -n 's/^Ultravox simulator listening on //p' "$work/sim.log")
calls() { curl -fsS -H "X-API-Key: $sim_key" "$sim_url/api/calls"; }
# live: a call exists that has not ended; ended_all: there are calls and all ended.
live() { calls | grep -q '"ended":null'; }
ended_all() {
	local c
	c=$(calls)
	grep -q '"callId"' <<<"$c" && ! grep -q '"ended":null' <<<"$c"
}
ncalls() { calls | grep -o '"callId"' | wc -l; }

# logged LOG PATTERN: the app's log has a line matching PATTERN.
logged() { grep -q -- "$2" "$work/$1"; }

# 1. Demo mode.
step "1. demo mode"
app demo.log --demo
if winctl wait-tray 60; then ok "demo mode: the tray icon's window is up"; else fail "demo mode: no tray icon window"; fi
winctl choose start-call
if wait_for 30 logged demo.log 'kind="call started"'; then ok "demo mode: Start call from the tray menu started a call"; else fail "demo mode: Start call did nothing"; fi
winctl choose quit
if gone "$app" 20; then ok "demo mode: Quit exits"; else fail "demo mode: still running 20 s after Quit"; kill "$app" 2>/dev/null || true; fi
if logged demo.log 'kind=ended'; then ok "demo mode: Quit ended the live call first"; else fail "demo mode: no ended event before exit"; fi

# 2. The key through Credential Manager.
step "2. API key in Credential Manager"
winctl key set "$sim_key"
if [[ $(winctl key get) == "keychain"$'\t'"$sim_key" ]]; then ok "key stored and read back from Credential Manager"; else fail "key round trip"; fi

# 3. A call created and ended, against the simulator. The app has no key in
# its environment: the simulator accepts only this key, so a call there
# means the app read it from Credential Manager.
step "3. a call against the simulator"
export ULTRAVOX_API_URL=$sim_url
app sim.log
winctl wait-tray 60 || fail "no tray icon window"
wait_for 30 logged sim.log 'ultravox-tray running' || true
sleep 2
winctl choose start-call
if wait_for 30 live; then ok "Start call: the simulator has a live call, created with the key from Credential Manager"; else fail "Start call: no live call"; fi
sleep 1
winctl choose end-call
if wait_for 30 ended_all; then ok "End call: the simulator has the call ended"; else fail "End call: the call did not end"; fi

# 4. Suspend ends a live call.
step "4. suspend (WM_POWERBROADCAST)"
winctl choose start-call
if wait_for 30 live; then
	winctl suspend || fail "suspend message not answered"
	if wait_for 30 ended_all; then ok "suspend ended the live call"; else fail "suspend: the call is still live"; fi
else
	fail "suspend: no live call"
fi
winctl choose quit
gone "$app" 20 || { fail "still running 20 s after Quit (after suspend)"; kill "$app" 2>/dev/null || true; }

# 5. End of session with a live call. Nothing touches the tray from here on.
step "5. wineboot --end-session with a live call"
app endsession.log
winctl wait-tray 60 || fail "no tray icon window"
wait_for 30 logged endsession.log 'ultravox-tray running' || true
sleep 2
winctl choose start-call
if wait_for 30 live; then
	sleep 1
	start=$SECONDS
	timeout 60 wineboot --end-session >"$work/endsession-wineboot.log" 2>&1 || {
		rc=$?
		((rc == 124)) && fail "wineboot --end-session hung (60 s)"
	}
	echo "wineboot --end-session returned after $((SECONDS - start)) s"
	if wait_for 20 ended_all; then ok "end of session ended the live call"; else fail "end of session: the call is still live"; fi
	if gone "$app" 30; then ok "the app exited with the session"; else fail "the app still runs 30 s after the session ended"; fi
else
	fail "end-session: no live call"
fi

winctl key delete || true
echo "test-windows: $passed passed, $failed failed"
((failed == 0))
