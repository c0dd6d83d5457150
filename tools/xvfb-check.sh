#!/usr/bin/env bash
# Runs the kiosk as a real X11 window on a virtual display and drives it with xdotool, the way
# a touch screen or keyboard would: proof that real input reaches the UI, with no monitor.
#
# Needs Debian's xvfb, openbox, xdotool and imagemagick:
#   apt-get install xvfb openbox xdotool imagemagick
# Usage: tools/xvfb-check.sh [OUT_DIR]      (screenshots go to OUT_DIR, default target/xvfb)
# Exits non-zero if the window does not appear, dies, or does not react to typing and clicks.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-target/xvfb}
mkdir -p "$out"
for tool in Xvfb openbox xdotool import; do
    command -v "$tool" >/dev/null || { echo "xvfb-check: $tool is missing (see the top of this script)"; exit 2; }
done

display=:${XVFB_DISPLAY:-97}
Xvfb "$display" -screen 0 1920x1080x24 -nolisten tcp &
xvfb=$!
data=$(mktemp -d)
cleanup() { kill "${kiosk:-}" "${wm:-}" "$xvfb" 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT
export DISPLAY=$display
sleep 1
# A window manager gives the window focus and fullscreen, as cage does on a terminal.
openbox &
wm=$!
sleep 1

cargo build --release --quiet
KIOSK_DATA_DIR="$data" KIOSK_CONFIG=/dev/null ./target/release/kiosk run --fullscreen &
kiosk=$!

window=""
for _ in $(seq 1 60); do
    window=$(xdotool search --name '^kiosk$' 2>/dev/null | head -n 1 || true)
    [ -n "$window" ] && break
    sleep 0.5
done
[ -n "$window" ] || { echo "xvfb-check: no kiosk window appeared"; exit 1; }
sleep 2
import -window root "$out/1-home.png"

# Click the search box (near the top, in the middle), then type pinyin initials.
xdotool mousemove 960 190 click 1
sleep 1
xdotool type --delay 120 yyzz
sleep 2
import -window root "$out/2-typed.png"
# Escape goes home.
xdotool key Escape
sleep 1
import -window root "$out/3-home-again.png"

kill -0 "$kiosk" || { echo "xvfb-check: the kiosk died"; exit 1; }
# The screen changed with the input: typing showed results, Escape brought home back.
if cmp -s "$out/1-home.png" "$out/2-typed.png"; then
    echo "xvfb-check: typing changed nothing on the screen"; exit 1
fi
echo "xvfb-check: the kiosk window took clicks and typing; screenshots in $out"
