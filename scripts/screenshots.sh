#!/usr/bin/env bash
# scripts/screenshots.sh (make screenshots): runs Ultravox Tray in demo mode in
# a private desktop (Xvfb, a private D-Bus session bus, xfce4-panel as the tray
# host, dunst for notifications) and saves PNGs of each state into
# docs/screenshots/: idle, the open menu, billing with its tooltip, menu and
# notification, the call window, the settings window, a call's review and
# the usage window, unknown (key rejected), and the window shown on a desktop without a tray, before and
# after a tray appears. Nothing touches your own desktop: every daemon is private and
# stopped by PID at the end.
#
# Needs: go, gcc (X11/XTest headers from xorg-dev), Xvfb, dbus-daemon, gdbus,
# xfce4-panel, dunst, imagemagick (import, convert).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=${SCREENSHOTS_DIR:-$root/docs/screenshots}
work=$(mktemp -d /tmp/uvt-shots.XXXXXX)
pids=()

cleanup() {
  local p
  for ((i=${#pids[@]}-1; i>=0; i--)); do
    p=${pids[$i]}
    kill -TERM "$p" 2>/dev/null || true
  done
  sleep 1
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  [ -n "${DBUS_PID:-}" ] && kill -TERM "$DBUS_PID" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

need() { command -v "$1" >/dev/null || { echo "screenshots: $1 is missing (run scripts/setup.sh)" >&2; exit 1; }; }
for b in go gcc Xvfb dbus-daemon gdbus xfce4-panel dunst import convert; do need "$b"; done

# Keep Go's caches where they are: HOME changes below.
export GOPATH=${GOPATH:-$(go env GOPATH)} GOMODCACHE=$(go env GOMODCACHE) GOCACHE=$(go env GOCACHE)
mkdir -p "$out" "$work/home" "$work/cfg" "$work/state" "$work/run"
chmod 700 "$work/run"
export HOME=$work/home XDG_CONFIG_HOME=$work/cfg XDG_STATE_HOME=$work/state XDG_RUNTIME_DIR=$work/run
export XDG_CACHE_HOME=$work/home/.cache XDG_DATA_HOME=$work/home/.local/share LANG=C.UTF-8 LC_ALL=C.UTF-8
unset ULTRAVOX_API_KEY ULTRAVOX_API_URL ULTRAVOX_AGENT_ID DBUS_SESSION_BUS_ADDRESS DBUS_SYSTEM_BUS_ADDRESS

echo "screenshots: building the app, the simulator and a pointer helper"
(cd "$root" && go build -o "$work/ultravox-tray" ./cmd/ultravox-tray && go build -o "$work/ultravox-sim" ./cmd/ultravox-sim)
cat > "$work/xptr.c" <<'EOF'
/* xptr move X Y | click X Y [BUTTON] | key KEYSYM: drive the pointer and keyboard through XTest. */
#include <X11/Xlib.h>
#include <X11/extensions/XTest.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv) {
  Display *d = XOpenDisplay(NULL);
  if (!d || argc < 3) { fprintf(stderr, "usage: xptr move X Y | click X Y [BUTTON] | key KEYSYM\n"); return 2; }
  if (argv[1][0] == 'k') {
    KeyCode kc = XKeysymToKeycode(d, XStringToKeysym(argv[2]));
    XTestFakeKeyEvent(d, kc, True, 0); XTestFakeKeyEvent(d, kc, False, 0);
  } else {
    XTestFakeMotionEvent(d, -1, atoi(argv[2]), atoi(argv[3]), 0);
    XFlush(d); usleep(100000);
    if (argv[1][0] == 'c') {
      int b = argc > 4 ? atoi(argv[4]) : 1;
      XTestFakeButtonEvent(d, b, True, 0); XFlush(d); usleep(50000);
      XTestFakeButtonEvent(d, b, False, 0);
    }
  }
  XFlush(d); XCloseDisplay(d); return 0;
}
EOF
gcc -O1 -o "$work/xptr" "$work/xptr.c" -lX11 -lXtst

# A panel across the top with the status tray at the right, and dunst popups
# under it.
mkdir -p "$XDG_CONFIG_HOME/xfce4/xfconf/xfce-perchannel-xml" "$XDG_CONFIG_HOME/dunst"
cat > "$XDG_CONFIG_HOME/xfce4/xfconf/xfce-perchannel-xml/xfce4-panel.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<channel name="xfce4-panel" version="1.0">
  <property name="configver" type="int" value="2"/>
  <property name="panels" type="array">
    <value type="int" value="1"/>
    <property name="dark-mode" type="bool" value="false"/>
    <property name="panel-1" type="empty">
      <property name="position" type="string" value="p=6;x=0;y=0"/>
      <property name="length" type="uint" value="100"/>
      <property name="position-locked" type="bool" value="true"/>
      <property name="size" type="uint" value="32"/>
      <property name="icon-size" type="uint" value="22"/>
      <property name="plugin-ids" type="array">
        <value type="int" value="1"/>
        <value type="int" value="2"/>
        <value type="int" value="3"/>
      </property>
    </property>
  </property>
  <property name="plugins" type="empty">
    <property name="plugin-1" type="string" value="separator">
      <property name="expand" type="bool" value="true"/>
      <property name="style" type="uint" value="0"/>
    </property>
    <property name="plugin-2" type="string" value="systray">
      <property name="square-icons" type="bool" value="true"/>
      <property name="icon-size" type="int" value="22"/>
    </property>
    <property name="plugin-3" type="string" value="clock"/>
  </property>
</channel>
EOF
cat > "$XDG_CONFIG_HOME/dunst/dunstrc" <<'EOF'
[global]
    origin = top-right
    offset = 12x44
    width = 360
    font = Sans 10
    frame_width = 1
    frame_color = "#888888"
[urgency_low]
    background = "#ffffff"
    foreground = "#202020"
    timeout = 30
[urgency_normal]
    background = "#ffffff"
    foreground = "#202020"
    timeout = 30
[urgency_critical]
    background = "#fff0f0"
    foreground = "#900000"
    frame_color = "#e02424"
    timeout = 0
EOF

# Private X server and session bus.
exec 5<> <(:)
Xvfb -displayfd 5 -screen 0 1280x800x24 -nolisten tcp >"$work/xvfb.log" 2>&1 &
pids+=($!)
read -r -t 10 dpy <&5 || { echo "screenshots: Xvfb did not start" >&2; cat "$work/xvfb.log" >&2; exit 1; }
export DISPLAY=:$dpy
bus_out=$(dbus-daemon --session --fork --print-address=1 --print-pid=1)
export DBUS_SESSION_BUS_ADDRESS=$(echo "$bus_out" | sed -n 1p)
DBUS_PID=$(echo "$bus_out" | sed -n 2p)
# A desktop-coloured background instead of black.
convert -size 1280x800 gradient:"#5b7590"-"#2f3e4e" "$work/bg.png"
display -window root "$work/bg.png" >/dev/null 2>&1 || true
# An unlocked keychain (empty), as on a logged-in desktop.
if command -v gnome-keyring-daemon >/dev/null; then
  mkdir -p "$HOME/.local/share/keyrings" "$HOME/.cache"
  gnome-keyring-daemon --foreground --unlock --components=secrets < <(echo -n screenshots) >"$work/keyring.log" 2>&1 &
  pids+=($!)
  sleep 1
fi

start_panel() {
  xfce4-panel >>"$work/panel.log" 2>&1 &
  PANEL=$!
  pids+=($PANEL)
}
start_panel
dunst -config "$XDG_CONFIG_HOME/dunst/dunstrc" >"$work/dunst.log" 2>&1 &
pids+=($!)
watcher_is() { # true|false: wait until the StatusNotifierWatcher name has an owner or not
  for _ in $(seq 1 100); do
    gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
      --method org.freedesktop.DBus.NameHasOwner org.kde.StatusNotifierWatcher 2>/dev/null | grep -q "$1" && return 0
    sleep 0.2
  done
  echo "screenshots: the tray host's name did not become $1" >&2
}
# Wait until the panel's status tray owns the StatusNotifierWatcher name.
watcher_is true
sleep 1

item_name() { # the app's StatusNotifierItem bus name
  gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
    --method org.freedesktop.DBus.ListNames | { grep -o "org.kde.StatusNotifierItem-$1-1" || true; } | head -1
}
menu_id() { # id of the first shown menu item whose label starts with $2
  gdbus call --session --dest "$1" --object-path /StatusNotifierItem/menu \
    --method com.canonical.dbusmenu.GetLayout -- 0 -1 "@as []" |
    { grep -oE "\(([0-9]+), \{[^}]*\}" || true; } | grep -F "'label': <'$2" |
    { grep -vF "'visible': <false>" || true; } | head -1 | sed -E 's/^\(([0-9]+),.*/\1/'
}
menu_click() {
  local id
  id=$(menu_id "$1" "$2")
  [ -n "$id" ] || { echo "screenshots: no menu item '$2'" >&2; return 1; }
  gdbus call --session --dest "$1" --object-path /StatusNotifierItem/menu \
    --method com.canonical.dbusmenu.Event -- "$id" clicked "<int32 0>" 0 >/dev/null
}
start_app() { # args...; sets APP and ITEM
  "$work/ultravox-tray" --no-audio "$@" >>"$work/app.log" 2>&1 &
  APP=$!
  pids+=($APP)
  for _ in $(seq 1 100); do
    ITEM=$(item_name "$APP")
    [ -n "$ITEM" ] && break
    sleep 0.2
  done
  [ -n "$ITEM" ] || { echo "screenshots: the app's tray item did not appear" >&2; cat "$work/app.log" >&2; exit 1; }
  sleep 2
}
stop_app() {
  kill -TERM "$APP" 2>/dev/null || true
  wait "$APP" 2>/dev/null || true
  dunstctl close-all 2>/dev/null || true
}
hover_icon() { # move the pointer off and back onto the tray icon: the panel shows the tooltip
  "$work/xptr" move 300 500
  sleep 0.3
  local x; x=$(icon_x)
  "$work/xptr" move "${x:-1195}" 16
  sleep 2.5
}
shot() { # name [crop geometry]
  local f="$out/$1.png"
  import -window root "$work/full.png"
  if [ -n "${2:-}" ]; then convert "$work/full.png" -crop "$2" +repage "$f"; else cp "$work/full.png" "$f"; fi
  convert "$f" -strip -define png:compression-level=9 "$f"
  echo "screenshots: $f"
}
# The tray icon's centre: the panel's first pixel (scanning right from the
# middle of the panel, at the icon's height) that differs from the panel
# background is the icon's left edge; the icons are 22 px wide.
icon_x() {
  import -window root -crop 640x1+640+16 +repage "$work/row.png"
  convert "$work/row.png" txt:- | awk -F'[,: ]+' '
    NR==2 { bg=$0; sub(/.*#/, "", bg); sub(/ .*/, "", bg) }
    NR>1 { c=$0; sub(/.*#/, "", c); sub(/ .*/, "", c); if (c != bg) { print 640+$1+11; exit } }' || true
}

RIGHT=640x130+640+0

wait_popup() { # wait (up to $1 s) until dunst shows a notification
  for _ in $(seq 1 $(( $1 * 5 ))); do
    [ "$(dunstctl count displayed 2>/dev/null || echo 0)" -gt 0 ] && return 0
    sleep 0.2
  done
  echo "screenshots: no notification appeared within $1 s" >&2
}

echo "screenshots: demo mode"
start_app --demo
dunstctl close-all 2>/dev/null || true
hover_icon
shot tray-idle "$RIGHT"
"$work/xptr" move 300 500

# The menu, opened as a user would: click the icon in the panel.
ix=$(icon_x); ix=${ix:-1195}
"$work/xptr" click "$ix" 16
sleep 0.3
"$work/xptr" move 300 500 # off the icon (its tooltip would cover the menu), not onto the menu
sleep 0.7
shot menu-open 640x560+640+0
"$work/xptr" key Escape
"$work/xptr" move 300 500
sleep 0.5

menu_click "$ITEM" "Start call"
wait_popup 15
sleep 1
shot notification-call-started "$RIGHT"
dunstctl close-all 2>/dev/null || true
hover_icon
shot tray-billing "$RIGHT"
"$work/xptr" move 300 500
# The menu during the call: what the manager says about it sits under the status.
ix=$(icon_x); ix=${ix:-1195}
"$work/xptr" click "$ix" 16
sleep 0.3
"$work/xptr" move 300 500
sleep 0.7
shot menu-billing 640x560+640+0
"$work/xptr" key Escape
sleep 0.5

# End it: the billed summary arrives once the server settles the call.
menu_click "$ITEM" "End call"
sleep 1
dunstctl close-all 2>/dev/null || true
wait_popup 60
sleep 1
shot notification-billed "$RIGHT"
dunstctl close-all 2>/dev/null || true

# The call window, on a second call.
menu_click "$ITEM" "Start call"
sleep 4
menu_click "$ITEM" "Show call"
sleep 3
dunstctl close-all 2>/dev/null || true
sleep 0.5
shot call-window
stop_app

echo "screenshots: settings"
start_app --demo
menu_click "$ITEM" "Settings"
sleep 2.5
shot settings-window
stop_app

echo "screenshots: review and usage"
# A simulator without free minutes, so that calls bill and show in the usage.
"$work/ultravox-sim" -addr 127.0.0.1:0 -key sim-review-key -free-time 0 -settle 1s -quiet >"$work/sim-review.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 50); do
  rurl=$(grep -oE 'http://127\.0\.0\.1:[0-9]+' "$work/sim-review.log" | head -1 || true)
  [ -n "$rurl" ] && break
  sleep 0.2
done
[ -n "$rurl" ] || { echo "screenshots: the review simulator did not start" >&2; cat "$work/sim-review.log" >&2; exit 1; }
# Record calls with the first agent, and a small daily budget (its line shows in the chart).
ragent=$(curl -s -H "X-API-Key: sim-review-key" "$rurl/api/agents" | grep -oE '"agentId":"[^"]+"' | head -1 | cut -d'"' -f4)
mkdir -p "$XDG_CONFIG_HOME/ultravox-tray"
echo "{\"maxDurationSeconds\": 240, \"joinTimeoutSeconds\": 15, \"pricePerMinute\": 0.05, \"dailyBudget\": 0.02, \"endCallsOnLock\": true, \"recordCalls\": [\"$ragent\"]}" >"$XDG_CONFIG_HOME/ultravox-tray/settings.json"
ULTRAVOX_API_URL=$rurl ULTRAVOX_API_KEY=sim-review-key start_app
menu_click "$ITEM" "Start call"
sleep 4
rcall=$(curl -s -H "X-API-Key: sim-review-key" "$rurl/api/calls?pageSize=1" | grep -oE '"callId":"[^"]+"' | head -1 | cut -d'"' -f4)
for line in "What are your opening hours?" "And on Sundays?"; do
  curl -s -o /dev/null -H "X-API-Key: sim-review-key" -H "Content-Type: application/json" \
    -d "{\"type\":\"user_text_message\",\"text\":\"$line\"}" "$rurl/api/calls/$rcall/send_data_message"
  sleep 3
done
menu_click "$ITEM" "End call"
sleep 4
dunstctl close-all 2>/dev/null || true
menu_click "$ITEM" "Support agent · "
sleep 3
shot review-window
stop_app
ULTRAVOX_API_URL=$rurl ULTRAVOX_API_KEY=sim-review-key start_app
menu_click "$ITEM" "Usage"
sleep 3
dunstctl close-all 2>/dev/null || true
shot usage-window
stop_app
rm -f "$XDG_CONFIG_HOME/ultravox-tray/settings.json"

echo "screenshots: key rejected (unknown)"
"$work/ultravox-sim" -addr 127.0.0.1:0 -quiet >"$work/sim.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 50); do
  url=$(grep -oE 'http://127\.0\.0\.1:[0-9]+' "$work/sim.log" | head -1 || true)
  [ -n "$url" ] && break
  sleep 0.2
done
[ -n "$url" ] || { echo "screenshots: the simulator did not start" >&2; cat "$work/sim.log" >&2; exit 1; }
rejected_key="NotAKey1.$(printf "wrong%.0s" 1 2 3 4 5 6)wr" # real-shaped, built at run time
ULTRAVOX_API_URL=$url ULTRAVOX_API_KEY=$rejected_key start_app
wait_popup 15
sleep 1
shot notification-key-rejected "$RIGHT"
dunstctl close-all 2>/dev/null || true
hover_icon
shot tray-unknown "$RIGHT"
stop_app

echo "screenshots: no system tray, then one appears"
kill -TERM "$PANEL" 2>/dev/null || true
wait "$PANEL" 2>/dev/null || true
watcher_is false
"$work/xptr" move 300 500
start_app --demo
sleep 2
shot no-tray
start_panel
watcher_is true
sleep 3
shot tray-found
stop_app
echo "screenshots: done; look at $out/*.png"
