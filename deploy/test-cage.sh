#!/bin/bash
# deploy/test-cage.sh: the acceptance check "the kiosk runs under cage" (docs/deploy.md,
# "Checking").
#
# Runs the kiosk the way kiosk.service does, `cage -d -- kiosk run --fullscreen`, but on cage's
# headless backend (WLR_BACKENDS=headless, pixman renderer: no screen, no GPU, no seat needed),
# with an empty config and a temporary data directory, so it shows the built-in sample hall.
# It listens on a NOTIFY_SOCKET of its own, as systemd would, with a 2-second watchdog, and
# checks that:
#   - cage starts and makes its Wayland socket;
#   - the kiosk, cage's child, sends READY=1 and then WATCHDOG=1 (what Type=notify,
#     NotifyAccess=all and WatchdogSec= in kiosk.service rely on);
#   - a screenshot taken with grim is not blank, has the blue header band of the home screen,
#     and matches `kiosk screenshot --page home` at the same size (the home screen, full screen);
#   - cage and the kiosk are still running when it is taken;
#   - after the kiosk is killed (as a crash would end it) and started again as systemd's
#     Restart= does, the home screen is back within 5 seconds of the kill.
# It writes the screenshot to docs/screenshots/cage-home.png (or -o FILE) and prints a PASS or
# FAIL line for each check.
#
# cage refuses to run as root, so when this script runs as root, cage runs as the user nobody.
# CAGE_ARGS sets cage's options (default: "-d -r -r", below); CAGE_ARGS="-d -r" turns the
# headless output (1280x720) to portrait (720x1280).
#
# Why the default turns the output by 180 degrees (grim gives the picture upright again): cage
# 0.1.4 hands the buffer of a full-screen client straight to the output when the client's size
# and orientation match it (direct scan-out), and on the headless backend of wlroots 0.15 a
# screenshot (screencopy) then gets the last frame cage composed itself, not that buffer: the
# kiosk's first frame, forever. A turned output is always composed. On a real screen (the DRM
# backend) the kiosk's buffers, drawn by the software renderer in shared memory, cannot be
# scanned out, so cage composes every frame there anyway.
#
# Usage: deploy/test-cage.sh [--binary FILE] [--build] [-o FILE] [--keep]
#   --binary FILE  the kiosk to run (default: target/release/kiosk, built when missing)
#   --build        run `cargo build --release` first
#   -o FILE        where to write the screenshot (default: docs/screenshots/cage-home.png)
#   --keep         keep the temporary folder with cage's log (its path is printed)
# Needs cage, xwayland, grim and python3 (installed with apt-get when missing and run as root).
# Set KIOSK_LOG=debug and/or WAYLAND_DEBUG=1 to get more in cage's log.
# Exit status: 0 when every check passed, 1 when one failed, 2 when the test could not run.

set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
binary=$repo/target/release/kiosk
build=no
out=$repo/docs/screenshots/cage-home.png
keep=no
while [ $# -gt 0 ]; do
    case $1 in
        --binary) binary=${2:?--binary needs a file}; shift ;;
        --build) build=yes ;;
        -o) out=${2:?-o needs a file}; shift ;;
        --keep) keep=yes ;;
        -h | --help) sed -n '2,/^$/s/^# \{0,1\}//p' "$0"; exit 0 ;;
        *) echo "test-cage: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done

say() { printf '%s\n' "test-cage: $*"; }
die() { printf '%s\n' "test-cage: $*" >&2; exit 2; }

# apt-get install, reading the package lists first (a fresh machine may have none yet). An
# update that fails for one source still leaves the others' lists, so only the install decides.
apt_install() {
    if [ -z "${apt_updated:-}" ]; then
        apt-get update -q >/dev/null 2>&1 || true
        apt_updated=yes
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null
}

# --- What it needs ----------------------------------------------------------------------------
missing=
command -v cage >/dev/null || missing="$missing cage"
command -v grim >/dev/null || missing="$missing grim"
[ -x /usr/bin/Xwayland ] || missing="$missing xwayland" # Debian's cage will not start without it
command -v python3 >/dev/null || missing="$missing python3"
if [ -n "$missing" ]; then
    [ "$(id -u)" = 0 ] || die "missing:$missing (apt-get install$missing)"
    say "installing$missing"
    # shellcheck disable=SC2086
    apt_install $missing
fi

if [ $build = yes ] || { [ "$binary" = "$repo/target/release/kiosk" ] && [ ! -x "$binary" ]; }; then
    say "building: cargo build --release"
    (cd "$repo" && cargo build --release)
fi
[ -x "$binary" ] || die "$binary is not an executable file"
binary=$(realpath "$binary")

# --- Who runs cage, where ---------------------------------------------------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kiosk-cage-test.XXXXXX")
chmod 755 "$tmp"
runas=()
if [ "$(id -u)" = 0 ]; then
    runas=(setpriv --reuid=65534 --regid=65534 --clear-groups)
fi
mkdir -m 700 "$tmp/run"
mkdir "$tmp/data" "$tmp/home"
cp -r "$repo/kiosk-data/sample" "$tmp/sample"
if [ "$(id -u)" = 0 ]; then
    chown 65534:65534 "$tmp/run" "$tmp/data" "$tmp/home"
    # The user nobody may not reach the binary where it was built (a private checkout): run a
    # copy from the temporary folder.
    cp "$binary" "$tmp/kiosk"
    binary=$tmp/kiosk
    "${runas[@]}" test -x "$binary" || die "the user nobody cannot run $binary"
fi

cage_pid=
listener_pid=
cleanup() {
    local status=$?
    if [ -n "$cage_pid" ] && kill -0 "$cage_pid" 2>/dev/null; then
        kill -TERM "$cage_pid" 2>/dev/null || true
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            kill -0 "$cage_pid" 2>/dev/null || break
            sleep 0.5
        done
        kill -KILL "$cage_pid" 2>/dev/null || true
    fi
    if [ -n "$listener_pid" ]; then kill "$listener_pid" 2>/dev/null || true; fi
    wait 2>/dev/null || true
    if [ $keep = yes ]; then say "kept: $tmp (cage.log, notify.log, the screenshots)"; else rm -rf "$tmp"; fi
    exit $status
}
trap cleanup EXIT
trap 'exit 2' INT TERM

# The environment of the kiosk, the same for cage and for `kiosk screenshot`: nothing from the
# caller's session (no DISPLAY, no WAYLAND_DISPLAY), the built-in sample hall, defaults for
# every setting.
base_env=(env -i PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 HOME="$tmp/home"
    XDG_RUNTIME_DIR="$tmp/run" KIOSK_CONFIG=/dev/null KIOSK_DATA_DIR="$tmp/data"
    KIOSK_SAMPLE_DIR="$tmp/sample" KIOSK_LOG="${KIOSK_LOG:-info}")
if [ -n "${WAYLAND_DEBUG:-}" ]; then base_env+=(WAYLAND_DEBUG="$WAYLAND_DEBUG"); fi
if [ -n "${SLINT_BACKEND:-}" ]; then base_env+=(SLINT_BACKEND="$SLINT_BACKEND"); fi

# Build the search index first, as a terminal that has run before has it: the screenshot then
# shows the home screen, not the "loading content" banner of a first start.
"${runas[@]}" "${base_env[@]}" "$binary" search --limit 1 yyzz >"$tmp/search.log" 2>&1 ||
    { cat "$tmp/search.log" >&2; die "kiosk search failed"; }

# systemd's side of sd_notify: a datagram socket; every message becomes a line of notify.log.
python3 - "$tmp/notify.sock" "$tmp/notify.log" <<'EOF' &
import os, socket, sys
path, log = sys.argv[1], sys.argv[2]
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(path)
os.chmod(path, 0o777)
with open(log, "a", buffering=1) as out:
    while True:
        data = sock.recv(4096).decode("utf-8", "replace")
        for line in data.splitlines():
            out.write(line + "\n")
EOF
listener_pid=$!
disown "$listener_pid"
for _ in $(seq 50); do [ -S "$tmp/notify.sock" ] && break; sleep 0.1; done
touch "$tmp/notify.log"

# --- Run ----------------------------------------------------------------------------------------
cage_args=${CAGE_ARGS--d -r -r}
say "starting: WLR_BACKENDS=headless WLR_LIBINPUT_NO_DEVICES=1 WLR_RENDERER=pixman cage $cage_args -- $binary run --fullscreen"
# $cage_args unquoted: it holds several options.
# shellcheck disable=SC2086
"${runas[@]}" "${base_env[@]}" WLR_BACKENDS=headless WLR_LIBINPUT_NO_DEVICES=1 WLR_RENDERER=pixman \
    NOTIFY_SOCKET="$tmp/notify.sock" WATCHDOG_USEC=2000000 \
    cage $cage_args -- "$binary" run --fullscreen >"$tmp/cage.log" 2>&1 &
cage_pid=$!
# Not a job of this shell: cage aborts on SIGTERM (an assertion in libwayland at exit), and the
# shell would report that. cleanup() waits for it by polling.
disown "$cage_pid"

failed=0
pass() { printf 'PASS %s\n' "$*"; }
fail() { printf 'FAIL %s\n' "$*"; failed=$((failed + 1)); }
show_log() { say "cage's log (last 40 lines):"; tail -n 40 "$tmp/cage.log" | sed 's/^/    /'; }

socket=
for _ in $(seq 300); do
    if [ -S "$tmp/run/wayland-0" ]; then socket=$tmp/run/wayland-0; break; fi
    kill -0 "$cage_pid" 2>/dev/null || break
    sleep 0.1
done
if [ -z "$socket" ]; then
    fail "cage made no Wayland socket"
    show_log
    exit 1
fi
pass "cage is up: $socket"

ready=no
for _ in $(seq 600); do
    if grep -qx 'READY=1' "$tmp/notify.log"; then ready=yes; break; fi
    kill -0 "$cage_pid" 2>/dev/null || break
    sleep 0.1
done
if [ $ready = yes ]; then
    pass "the kiosk under cage sent READY=1 to NOTIFY_SOCKET"
else
    fail "no READY=1 from the kiosk within 60 s"
    kill -0 "$cage_pid" 2>/dev/null || { show_log; exit 1; }
    sleep 5
fi

# Screenshots every two seconds until two in a row are the same: the screen has settled.
shot() { XDG_RUNTIME_DIR="$tmp/run" WAYLAND_DISPLAY=wayland-0 grim "$1" 2>>"$tmp/grim.log"; }
settled=no
shot "$tmp/shot-0.png" || true
for n in 1 2 3 4 5 6 7 8 9 10; do
    sleep 2
    shot "$tmp/shot-$n.png" || continue
    if [ -s "$tmp/shot-$((n - 1)).png" ] && cmp -s "$tmp/shot-$((n - 1)).png" "$tmp/shot-$n.png"; then
        settled=yes
        break
    fi
done
final=$(ls -t "$tmp"/shot-*.png 2>/dev/null | head -n 1 || true)
if [ -z "$final" ] || [ ! -s "$final" ]; then
    fail "grim took no screenshot"
    cat "$tmp/grim.log" >&2 || true
    show_log
    exit 1
fi
[ $settled = yes ] && pass "grim: the screen settled (two screenshots in a row the same)" ||
    say "the screen kept changing over 20 s; using the last screenshot"

if kill -0 "$cage_pid" 2>/dev/null; then
    pass "cage and the kiosk are still running"
else
    fail "cage exited while the screenshots were taken"
fi
watchdogs=$(grep -cx 'WATCHDOG=1' "$tmp/notify.log" || true)
if [ "$watchdogs" -gt 0 ]; then
    pass "the kiosk fed the watchdog: $watchdogs WATCHDOG=1 (WATCHDOG_USEC=2000000)"
else
    fail "no WATCHDOG=1 from the kiosk (WATCHDOG_USEC=2000000)"
fi

# The same screen rendered by the program itself, at the size cage gave it.
size=$(python3 -c 'import struct,sys; d=open(sys.argv[1],"rb").read(24); print("%dx%d" % struct.unpack(">II", d[16:24]))' "$final")
"${runas[@]}" "${base_env[@]}" "$binary" screenshot --page home --size "$size" -o "$tmp/home/reference.png" \
    >"$tmp/reference.log" 2>&1 || { cat "$tmp/reference.log" >&2; fail "kiosk screenshot --page home failed"; }

# Decode both PNGs (python3's standard library only) and compare.
cat >"$tmp/verdict.py" <<'EOF'
import struct, sys, zlib

def decode(path):
    """8-bit RGB or RGBA, not interlaced: what grim and the kiosk write."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    assert depth == 8 and colour in (2, 6) and interlace == 0, "unsupported PNG format"
    bpp = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(idat), width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif kind == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev))
        elif kind == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif kind == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b, c = prev[i], prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    pixels = [[row[x * bpp:x * bpp + 3] for x in range(width)] for row in rows]
    return width, height, pixels

w, h, shot = decode(sys.argv[1])
colours = len({p for row in shot[::4] for p in row[::4]})
# The home screen's header: a dark blue band across the top.
band = [p for row in shot[h // 100:h * 6 // 100] for p in row[::8]]
blue = sum(1 for r, g, b in band if b > 110 and b > r + 40 and r < 90) / len(band)
# The body below it is light.
body = [p for row in shot[h // 2::8] for p in row[::8]]
light = sum(1 for r, g, b in body if min(r, g, b) > 200) / len(body)
try:
    rw, rh, ref = decode(sys.argv[2])
    assert (rw, rh) == (w, h)
    differ = sum(1 for y in range(0, h, 2) for x in range(0, w, 2)
                 if max(abs(a - b) for a, b in zip(shot[y][x], ref[y][x])) > 48)
    differ /= len(range(0, h, 2)) * len(range(0, w, 2))
except Exception:
    differ = -1.0
print(f"{w}x{h} {colours} {blue:.3f} {light:.3f} {differ:.4f}")
EOF
verdict=$(python3 "$tmp/verdict.py" "$final" "$tmp/home/reference.png")
read -r size colours blue light differ <<<"$verdict"
say "screenshot $size: $colours colours, header band ${blue} blue, lower half ${light} light, ${differ} of pixels differ from kiosk screenshot --page home"
if [ "$colours" -ge 16 ]; then pass "the screenshot is not blank ($colours colours)"; else fail "the screenshot is blank ($colours colours)"; fi
if python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) >= 0.6 else 1)" "$blue"; then
    pass "the screenshot has the home screen's blue header band"
else
    fail "no blue header band at the top of the screenshot"
fi
if python3 -c "import sys; d=float(sys.argv[1]); sys.exit(0 if 0 <= d <= 0.03 else 1)" "$differ"; then
    pass "the screenshot matches kiosk screenshot --page home --size $size (${differ} of pixels differ)"
else
    fail "the screenshot does not match kiosk screenshot --page home --size $size (${differ} of pixels differ; --keep keeps both)"
fi

# --- A crash, and systemd's restart -------------------------------------------------------------
# The kiosk dies as a panic or the out-of-memory killer would end it (SIGKILL); cage, whose
# client it was, exits; systemd (Restart=always) starts the unit again after RestartSec. Here the
# script does what systemd does, and measures from the kill to the home screen shown again
# (a screenshot equal to `kiosk screenshot --page home`): at most 5 seconds.
restart_sec=$(sed -n 's/^RestartSec=\([0-9.]*\)$/\1/p' "$repo/deploy/kiosk.service")
kiosk_pid=$(pgrep -P "$cage_pid" -f "run --fullscreen" | head -n 1 || true)
if [ -z "$kiosk_pid" ] || [ -z "$restart_sec" ]; then
    fail "cannot find the kiosk under cage (pid ${kiosk_pid:-?}) or RestartSec in kiosk.service"
else
    readies=$(grep -cx 'READY=1' "$tmp/notify.log" || true)
    killed_at=$(date +%s.%N)
    kill -KILL "$kiosk_pid"
    for _ in $(seq 100); do kill -0 "$cage_pid" 2>/dev/null || break; sleep 0.05; done
    if kill -0 "$cage_pid" 2>/dev/null; then
        fail "cage did not exit when the kiosk was killed"
        kill -KILL "$cage_pid" 2>/dev/null || true
    fi
    gone_at=$(date +%s.%N)
    sleep "$restart_sec"
    rm -f "$tmp/run/wayland-0" "$tmp/run/wayland-0.lock"
    # shellcheck disable=SC2086
    "${runas[@]}" "${base_env[@]}" WLR_BACKENDS=headless WLR_LIBINPUT_NO_DEVICES=1 WLR_RENDERER=pixman \
        NOTIFY_SOCKET="$tmp/notify.sock" WATCHDOG_USEC=2000000 \
        cage $cage_args -- "$binary" run --fullscreen >>"$tmp/cage.log" 2>&1 &
    cage_pid=$!
    disown "$cage_pid"
    # Screenshots as fast as grim takes them; the screen is what it shows once two in a row are
    # the same (cmp is quick), and only then is it compared with the home screen (which takes a
    # second in Python): the home screen was shown when the first of that pair was taken.
    home_at=
    ready_at=
    previous=
    previous_at=
    n=0
    while [ "$(date +%s)" -lt $((${killed_at%.*} + 30)) ]; do
        n=$((n + 1))
        if [ -z "$ready_at" ] && [ "$(grep -cx 'READY=1' "$tmp/notify.log" || true)" -gt "$readies" ]; then
            ready_at=$(date +%s.%N)
        fi
        shot_at=$(date +%s.%N)
        if [ -n "$ready_at" ] && [ -S "$tmp/run/wayland-0" ] && shot "$tmp/restart-$n.png"; then
            if [ -n "$previous" ] && cmp -s "$previous" "$tmp/restart-$n.png"; then
                read -r _ _ _ _ again <<<"$(python3 "$tmp/verdict.py" "$tmp/restart-$n.png" "$tmp/home/reference.png")"
                if python3 -c "import sys; d=float(sys.argv[1]); sys.exit(0 if 0 <= d <= 0.03 else 1)" "$again"; then
                    home_at=$previous_at
                    break
                fi
            elif [ -n "$previous" ]; then
                rm -f "$previous"
            fi
            previous=$tmp/restart-$n.png
            previous_at=$shot_at
        fi
        sleep 0.05
    done
    if [ -z "$home_at" ]; then
        fail "after the kiosk was killed, the restarted one showed no home screen within 30 s"
    else
        took=$(python3 -c "import sys; print('%.1f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$killed_at" "$home_at")
        say "restart: cage gone $(python3 -c "import sys; print('%.2f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$killed_at" "$gone_at") s after the kill, READY=1 after $(python3 -c "import sys; print('%.2f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$killed_at" "$ready_at") s, the home screen after $took s ($n tries)"
        if python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) <= 5.0 else 1)" "$took"; then
            pass "killed, restarted as systemd would (RestartSec=$restart_sec), the home screen is back after $took s (at most 5 s)"
        else
            fail "killed and restarted (RestartSec=$restart_sec), the home screen came back after $took s (more than 5 s)"
        fi
    fi
fi

mkdir -p "$(dirname "$out")"
cp "$final" "$out"
say "screenshot: $out ($size)"

if [ $failed = 0 ]; then
    echo "PASS test-cage: the kiosk runs under cage and shows the home screen"
    exit 0
fi
echo "FAIL test-cage: $failed check(s) failed"
if [ $keep = no ]; then show_log; fi
exit 1
