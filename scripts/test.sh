#!/usr/bin/env bash
# The whole test suite, as `make test` and CI run it: gofmt -l (must be
# empty), go vet, then go test -race over every package, in a private
# environment that cannot reach the developer's desktop (no DISPLAY, dead
# D-Bus addresses, temporary HOME and XDG dirs, no Ultravox key). Tests start
# the parts they need themselves (internal/desktoptest). A final sweep stops
# any process the run left behind.
#
#   scripts/test.sh           gofmt, vet, tests
#   scripts/test.sh --bench   benchmarks (go test -run '^$' -bench . -benchmem), then
#                             one table of figures against targets (internal/benchtable)
#   extra arguments go to go test (e.g. -run TestX ./app/calls/...)
set -euo pipefail
cd "$(dirname "$0")/.."

mode=test
if [[ ${1:-} == --bench ]]; then
	mode=bench
	shift
fi
# Split the arguments into go test flags and packages, so that go vet gets
# only the packages (e.g. `scripts/test.sh -run TestX ./app/calls/`).
flags=()
pkgs=()
while (($#)); do
	case $1 in
	-run | -skip | -bench | -count | -timeout | -tags | -p | -parallel | -cpu | -benchtime)
		flags+=("$1" "$2")
		shift 2
		;;
	-*)
		flags+=("$1")
		shift
		;;
	*)
		pkgs+=("$1")
		shift
		;;
	esac
done
((${#pkgs[@]})) || pkgs=(./...)

if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
	PATH=$PATH:/usr/local/go/bin
fi
command -v go >/dev/null 2>&1 || { echo "test.sh: no go on PATH (run scripts/setup.sh)" >&2; exit 1; }

# Keep Go's caches and `go env -w` settings: HOME moves below.
GOENV=$(go env GOENV) GOCACHE=$(go env GOCACHE) GOMODCACHE=$(go env GOMODCACHE) GOPATH=$(go env GOPATH)
export GOENV GOCACHE GOMODCACHE GOPATH

run=$(mktemp -d "${TMPDIR:-/tmp}/uvt.XXXXXX")
pidfile=$run/daemons
log=$run/go-test.log

# sweep stops what the run left running: every process carrying this run's
# marker in its environment (go test passes it to all it starts), and every
# daemon internal/desktoptest recorded (matched by pid and start time, and
# stopped by process group). Never by name.
sweep() {
	local strays=() f pid line st name
	for f in $(grep -lzxF "UVT_TEST_RUN=$run" /proc/[0-9]*/environ 2>/dev/null || true); do
		pid=${f#/proc/}
		pid=${pid%/environ}
		strays+=("$pid")
	done
	if [[ -s $pidfile ]]; then
		while read -r pid st name; do
			[[ -r /proc/$pid/stat ]] || continue
			line=$(</proc/"$pid"/stat) || continue
			line=${line##*) }
			# After "pid (comm) ": state is the 1st field, starttime the 20th.
			# A zombie is dead already (PID 1 in a container may never reap it).
			[[ ${line:0:1} != Z ]] || continue
			[[ $(awk '{print $20}' <<<"$line") == "$st" ]] || continue
			strays+=("$pid")
		done <"$pidfile"
	fi
	if ((${#strays[@]})); then
		mapfile -t strays < <(printf '%s\n' "${strays[@]}" | sort -un)
		echo "test.sh: WARNING: tests left ${#strays[@]} process(es) running; stopping them:" >&2
		for pid in "${strays[@]}"; do
			echo "  $pid $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-120)" >&2
			kill -TERM -- "-$pid" 2>/dev/null || true
			kill -TERM "$pid" 2>/dev/null || true
		done
		sleep 1
		for pid in "${strays[@]}"; do
			kill -KILL -- "-$pid" 2>/dev/null || true
			kill -KILL "$pid" 2>/dev/null || true
		done
	fi
}
cleanup() {
	local rc=$?
	sweep
	rm -rf "$run" 2>/dev/null || true
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A private environment: nothing inherited can point a test at the real
# desktop. The D-Bus addresses point at sockets that do not exist, so code
# that forgets to use its test's private bus fails loudly instead of
# reaching the user's bus (godbus would otherwise find /run/user/UID/bus or
# spawn dbus-launch).
unset DISPLAY WAYLAND_DISPLAY XDG_RUNTIME_DIR XDG_SESSION_TYPE PULSE_SERVER PULSE_CLIENTCONFIG \
	SSH_AUTH_SOCK GNOME_KEYRING_CONTROL LC_ALL ULTRAVOX_API_KEY ULTRAVOX_API_URL ULTRAVOX_AGENT_ID
export DBUS_SESSION_BUS_ADDRESS="unix:path=$run/no-session-bus"
export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$run/no-system-bus"
export HOME=$run/home
export XDG_CONFIG_HOME=$HOME/.config XDG_DATA_HOME=$HOME/.local/share XDG_CACHE_HOME=$HOME/.cache XDG_STATE_HOME=$HOME/.local/state
mkdir -p "$XDG_CONFIG_HOME" "$XDG_DATA_HOME" "$XDG_CACHE_HOME" "$XDG_STATE_HOME"
# Temporary files of the tests (and of go itself) live in the run's
# directory, which is removed at the end even when a test binary died before
# its cleanups ran. The path stays short: unix socket paths are limited to
# 108 bytes, and t.TempDir adds up to 64 characters of test name.
export TMPDIR=$run/t
mkdir -p "$TMPDIR"
export LANG=C.UTF-8
export UVT_REQUIRE_DESKTOP=1
export UVT_DESKTOPTEST_PIDFILE=$pidfile

if [[ $mode == bench ]]; then
	set +e
	env UVT_TEST_RUN="$run" go test -run '^$' -bench . -benchmem -count=1 -p 1 -timeout 30m "${flags[@]}" "${pkgs[@]}" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	# One table at the end: figure, same-run baseline, ratio, target; exit 1
	# when a figure misses its target by more than 50 %. UVT_BENCH_README=1
	# also rewrites README.md's performance table from it.
	readme=()
	[[ -z ${UVT_BENCH_README:-} ]] || readme=(-readme README.md)
	go run ./internal/benchtable "${readme[@]}" "$log"
	trc=$?
	set -e
	((rc != 0)) && exit "$rc"
	exit "$trc"
fi

# gofmt and vet failures are reported, then the tests still run, so one run
# shows everything; any failure makes the exit status non-zero.
problems=()

echo "== gofmt -l"
mapfile -t gofiles < <(git ls-files -co --exclude-standard -- '*.go' | grep -v '/testdata/' || true)
unformatted=""
if ((${#gofiles[@]})); then
	unformatted=$(gofmt -l "${gofiles[@]}" 2>&1 || true)
fi
if [[ -n $unformatted ]]; then
	echo "test.sh: these files need gofmt -w:" >&2
	echo "$unformatted" >&2
	problems+=("gofmt")
fi

echo "== go vet ${pkgs[*]}"
if ! go vet "${pkgs[@]}"; then
	problems+=("go vet")
fi

# The real-time audio tests (app/voice: speech at real time through
# PulseAudio) run on their own after the rest, so that two cores busy with
# other packages' builds and desktops do not starve their audio threads.
mapfile -t all < <(go list "${pkgs[@]}")
realtime=()
others=()
for p in "${all[@]}"; do
	case $p in
	*/app/voice) realtime+=("$p") ;;
	*) others+=("$p") ;;
	esac
done
echo "== go test -race -count=1 -p 2 -timeout 15m ${flags[*]} ${pkgs[*]}"
start=$(date +%s)
set +e
rc=0
: >"$log"
if ((${#others[@]})); then
	env UVT_TEST_RUN="$run" go test -race -count=1 -p 2 -timeout 15m "${flags[@]}" "${others[@]}" 2>&1 | tee -a "$log"
	rc=${PIPESTATUS[0]}
fi
if ((${#realtime[@]})); then
	echo "== then, alone: ${realtime[*]}"
	env UVT_TEST_RUN="$run" go test -race -count=1 -p 1 -timeout 15m "${flags[@]}" "${realtime[@]}" 2>&1 | tee -a "$log"
	((PIPESTATUS[0] == 0)) || rc=1
fi
set -e
secs=$(($(date +%s) - start))

ok=$(grep -c '^ok ' "$log" || true)
notests=$(grep -c '^? ' "$log" || true)
mapfile -t failed < <(grep -E '^FAIL[[:space:]]+[^[:space:]]+' "$log" | awk '{print $2}' | sort -u || true)
echo "== summary: ${ok} package(s) ok, ${#failed[@]} failed, ${notests} without tests, ${secs}s"
for p in "${failed[@]}"; do
	echo "   FAIL $p"
done
if ((rc != 0)); then
	problems+=("go test (exit $rc)")
fi
if ((${#problems[@]})); then
	echo "test.sh: FAILED: $(IFS=,; echo "${problems[*]}" | sed 's/,/, /g')" >&2
	exit 1
fi
echo "test.sh: all passed"
