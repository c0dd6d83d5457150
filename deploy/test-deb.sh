#!/bin/bash
# deploy/test-deb.sh: the acceptance check of the Debian package (docs/deploy.md, "Checking").
#
# Builds the .deb (`cargo deb`), makes a minimal Debian 12 (bookworm) root with debootstrap in a
# temporary folder, installs the package there as the README says, with deploy/install.sh (run
# twice: bare, then with a public key and an admin PIN; apt pulls cage, seatd, xwayland ...
# from the mirror), and checks that:
#   - install.sh made graphical.target the default, gave tty1 to the kiosk, turned off SysRq
#     and Ctrl+Alt+Del, pinned the key, and kept the PIN only as an Argon2id hash (root:kiosk
#     640), nowhere in clear; `kiosk config check` finds no error in the installed config;
#   - `dpkg -L kiosk` lists the binary, the units, the udev rule, the mount helper (mode 755),
#     /etc/kiosk/kiosk.toml (a conffile, with data_dir = /var/lib/kiosk), every file of the sample
#     hall and the documentation;
#   - the user and group kiosk exist, in the groups video, input and render;
#   - /var/lib/kiosk belongs to kiosk:kiosk, mode 750, and /etc/kiosk/keys exists;
#   - kiosk.service is enabled (graphical.target wants it), nothing was started;
#   - `systemd-analyze verify` passes on kiosk.service and kiosk-usb-mount@sdb1.service;
#   - `kiosk --version` and `kiosk check /usr/share/kiosk/sample` work in the root, and the user
#     kiosk can search the sample hall with the installed config (the index goes into
#     /var/lib/kiosk);
#   - the binary has Slint's KMS backend, which says there is no screen (exit 5);
#   - `apt-get purge kiosk` removes the files, the data directory, the user and the group.
# It prints a PASS or FAIL line for each check and the `dpkg -L` list, then removes the root.
#
# Usage (as root, on Debian 12 or another Debian-like system, with network access to a mirror):
#   deploy/test-deb.sh [--no-build] [--deb FILE] [--mirror URL] [--keep]
#     --no-build    use the newest target/debian/kiosk_*.deb instead of running `cargo deb`
#     --deb FILE    test this package file
#     --mirror URL  the Debian mirror (default: the one in this machine's apt sources, if it
#                   answers, else http://deb.debian.org/debian)
#     --keep        keep the root (its path is printed) instead of deleting it
# Exit status: 0 when every check passed, 1 when one failed, 2 when the test could not run.
# It needs about 600 MB in /tmp while it runs (TMPDIR chooses another place).

set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build=yes
deb=
mirror=
keep=no
while [ $# -gt 0 ]; do
    case $1 in
        --no-build) build=no ;;
        --deb) deb=${2:?--deb needs a file}; shift ;;
        --mirror) mirror=${2:?--mirror needs a URL}; shift ;;
        --keep) keep=yes ;;
        -h | --help) sed -n '2,/^$/s/^# \{0,1\}//p' "$0"; exit 0 ;;
        *) echo "test-deb: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done

say() { printf '%s\n' "test-deb: $*"; }
die() { printf '%s\n' "test-deb: $*" >&2; exit 2; }

# apt-get install, reading the package lists first (a fresh machine may have none yet). An
# update that fails for one source still leaves the others' lists, so only the install decides.
apt_install() {
    if [ -z "${apt_updated:-}" ]; then
        apt-get update -q >/dev/null 2>&1 || true
        apt_updated=yes
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null
}

[ "$(id -u)" = 0 ] || die "run as root (debootstrap and chroot need it)"

# --- The package ------------------------------------------------------------------------------
if [ -z "$deb" ]; then
    if [ $build = yes ]; then
        command -v cargo >/dev/null || die "cargo is not on PATH"
        if ! cargo deb --version >/dev/null 2>&1; then
            say "installing cargo-deb (cargo install cargo-deb --locked)"
            cargo install cargo-deb --locked
        fi
        # The package is built with the KMS backend (features = ["kms"] in Cargo.toml), which
        # links libinput, libudev, xkbcommon, gbm and libseat.
        missing=
        for package in libinput-dev libudev-dev libxkbcommon-dev libgbm-dev libseat-dev pkg-config; do
            dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'ok installed' ||
                missing="$missing $package"
        done
        if [ -n "$missing" ]; then
            say "installing what building the package needs:$missing"
            # shellcheck disable=SC2086
            apt_install $missing
        fi
        say "building the package: cargo deb"
        (cd "$repo" && cargo deb)
    fi
    deb=$(ls -t "$repo"/target/debian/kiosk_*.deb 2>/dev/null | head -n 1 || true)
    [ -n "$deb" ] || die "no target/debian/kiosk_*.deb; run without --no-build"
fi
[ -f "$deb" ] || die "$deb does not exist"
say "package: $deb ($(du -h "$deb" | cut -f1))"

# --- The mirror -------------------------------------------------------------------------------
reachable() {
    local url=$1/dists/bookworm/Release
    if command -v curl >/dev/null; then
        curl -fsS -o /dev/null --max-time 15 "$url"
    elif command -v wget >/dev/null; then
        wget -q -O /dev/null --timeout=15 "$url"
    else
        return 0 # cannot tell; debootstrap will say
    fi
}
if [ -z "$mirror" ]; then
    # The first Debian archive (not security) named in deb822 .sources files or one-line .list
    # files, enabled ones only.
    candidates=$(
        {
            cat /etc/apt/sources.list.d/*.sources 2>/dev/null | sed -n 's/^URIs:[[:space:]]*//p' | tr ' ' '\n'
            cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
                sed -n 's/^deb[[:space:]]\{1,\}\(\[[^]]*\][[:space:]]\{1,\}\)\{0,1\}\([^[:space:]]*\).*/\2/p'
        } | grep -E '^https?://' | grep -v -e security -e -updates | grep -E '/debian/?$' || true
    )
    for candidate in $candidates http://deb.debian.org/debian; do
        candidate=${candidate%/}
        if reachable "$candidate"; then
            mirror=$candidate
            break
        fi
        say "mirror $candidate does not answer"
    done
    [ -n "$mirror" ] || die "no Debian mirror answers; name one with --mirror URL"
fi
say "mirror: $mirror"

if ! command -v debootstrap >/dev/null; then
    say "installing debootstrap"
    apt_install debootstrap
fi

# --- The root ---------------------------------------------------------------------------------
root=$(mktemp -d "${TMPDIR:-/tmp}/kiosk-deb-test.XXXXXX")
# mktemp makes it 0700; as the root directory of the chroot it must be 0755 like any /, or the
# user kiosk could not reach a single file in it.
chmod 755 "$root"
cleanup() {
    local status=$?
    for mnt in "$root/proc" "$root/sys" "$root/dev/pts"; do
        if mountpoint -q "$mnt" 2>/dev/null; then umount -l "$mnt" || true; fi
    done
    if [ $keep = yes ]; then
        say "the root is kept in $root"
    elif grep -q " $root/" /proc/mounts; then
        say "something is still mounted under $root; not deleting it"
    else
        rm -rf "$root"
    fi
    exit $status
}
trap cleanup EXIT
trap 'exit 2' INT TERM

say "debootstrap bookworm into $root (a few minutes)"
# minbase plus systemd and udev: what a Debian 12 box has that the package works with (the
# postinst enables a unit; systemd-analyze comes with systemd).
if ! debootstrap --variant=minbase --include=systemd,systemd-sysv,udev bookworm "$root" "$mirror" \
    >"$root.debootstrap.log" 2>&1; then
    tail -n 20 "$root.debootstrap.log" >&2
    rm -f "$root.debootstrap.log"
    die "debootstrap failed"
fi
rm -f "$root.debootstrap.log"

# Like a box being set up, minus a running init: nothing may start services (policy-rc.d, for
# invoke-rc.d and deb-systemd-invoke; the kiosk's scripts look for /run/systemd/system, which a
# chroot does not have). /proc for apt and dpkg, the host's DNS for apt.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
mount -t proc proc "$root/proc"
cp -L /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
cp "$deb" "$root/tmp/kiosk.deb"

in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }

# As the README says: deploy/install.sh with the package. Twice, as an IT person might: first
# bare, then again with the office's key and the admin PIN (it must be safe to run again).
# --no-start: there is no systemd running in the root.
cp "$repo/deploy/install.sh" "$root/tmp/install.sh"
say "deploy/install.sh /tmp/kiosk.deb --no-start (in the root)"
if ! in_root sh /tmp/install.sh /tmp/kiosk.deb --no-start >"$root/tmp/install.log" 2>&1; then
    tail -n 30 "$root/tmp/install.log" >&2
    die "deploy/install.sh failed"
fi
say "apt set up $(grep -c '^Setting up' "$root/tmp/install.log" || true) packages"
in_root kiosk bundle keygen --out /tmp/office >/dev/null 2>&1 || die "kiosk bundle keygen failed in the root"
pin=24681357
printf '%s\n' "$pin" >"$root/tmp/pin.txt"
say "deploy/install.sh /tmp/kiosk.deb --pubkey /tmp/office.pub --pin-file /tmp/pin.txt --no-start (again)"
if ! in_root sh /tmp/install.sh /tmp/kiosk.deb --pubkey /tmp/office.pub --pin-file /tmp/pin.txt \
    --no-start >"$root/tmp/install-again.log" 2>&1; then
    tail -n 30 "$root/tmp/install-again.log" >&2
    die "deploy/install.sh failed the second time"
fi
rm -f "$root/tmp/pin.txt"

# --- The checks -------------------------------------------------------------------------------
failed=0
pass() { printf 'PASS %s\n' "$*"; }
fail() { printf 'FAIL %s\n' "$*"; failed=$((failed + 1)); }
check() { # check DESCRIPTION COMMAND...: PASS when the command succeeds
    local what=$1
    shift
    if "$@" >/dev/null 2>&1; then pass "$what"; else fail "$what"; fi
}

listing=$(in_root dpkg -L kiosk)
expected="/usr/bin/kiosk
/lib/systemd/system/kiosk.service
/lib/systemd/system/kiosk-usb-mount@.service
/lib/udev/rules.d/99-kiosk-usb.rules
/usr/libexec/kiosk/kiosk-usb-mount
/etc/kiosk/kiosk.toml
/usr/share/doc/kiosk/README.md
/usr/share/doc/kiosk/examples/kiosk-publish.service
/usr/share/doc/kiosk/examples/kiosk-publish.timer
/usr/share/doc/kiosk/examples/import.toml"
for file in $(cd "$repo/kiosk-data/sample" && find . -type f | sort); do
    expected="$expected
/usr/share/kiosk/sample/${file#./}"
done
for file in "$repo"/docs/*.md; do
    expected="$expected
/usr/share/doc/kiosk/$(basename "$file")"
done
missing=
while IFS= read -r path; do
    if ! grep -qxF "$path" <<<"$listing"; then missing="$missing $path"; fi
done <<<"$expected"
if [ -z "$missing" ]; then
    pass "dpkg -L kiosk lists all $(wc -l <<<"$expected") expected files"
else
    fail "dpkg -L kiosk does not list:$missing"
fi

for path in $expected; do
    [ -f "$root$path" ] || fail "$path is not on disk"
done
mode() { stat -c %a "$root$1"; }
check "/usr/bin/kiosk is executable (755)" test "$(mode /usr/bin/kiosk)" = 755
check "/usr/libexec/kiosk/kiosk-usb-mount is executable (755)" \
    test "$(mode /usr/libexec/kiosk/kiosk-usb-mount)" = 755
check "/etc/kiosk/kiosk.toml is a conffile" \
    grep -q '/etc/kiosk/kiosk.toml' <<<"$(in_root dpkg-query -W -f='${Conffiles}' kiosk)"
check "/etc/kiosk/kiosk.toml sets data_dir = \"/var/lib/kiosk\"" \
    grep -qx 'data_dir = "/var/lib/kiosk"' "$root/etc/kiosk/kiosk.toml"
check "the unit runs /usr/libexec/kiosk/kiosk-usb-mount" \
    grep -q '^ExecStart=/usr/libexec/kiosk/kiosk-usb-mount %i$' "$root/lib/systemd/system/kiosk-usb-mount@.service"
check "the binary is stripped (no .debug_line)" \
    bash -c "! readelf -S '$root/usr/bin/kiosk' | grep -q debug_line"

depends=$(in_root dpkg-query -W -f='${Depends}' kiosk)
for package in cage seatd xwayland ca-certificates; do
    check "$package is installed (Depends: ...$package...)" in_root dpkg-query -W -f='${Status}\n' "$package"
done

check "user kiosk exists" in_root getent passwd kiosk
check "group kiosk exists" in_root getent group kiosk
groups=$(in_root id -nG kiosk 2>/dev/null || true)
for group in video input render; do
    if in_root getent group "$group" >/dev/null; then
        check "user kiosk is in the group $group" grep -qw "$group" <<<"$groups"
    fi
done
check "user kiosk has no login shell" test "$(in_root getent passwd kiosk | cut -d: -f7)" = /usr/sbin/nologin
owner=$(in_root stat -c '%U:%G %a' /var/lib/kiosk 2>/dev/null || true)
check "/var/lib/kiosk is kiosk:kiosk 750 (it is '$owner')" test "$owner" = "kiosk:kiosk 750"
check "/etc/kiosk/keys exists" test -d "$root/etc/kiosk/keys"
check "kiosk.service is enabled (graphical.target.wants)" \
    test -L "$root/etc/systemd/system/graphical.target.wants/kiosk.service"
check "systemctl is-enabled kiosk.service says enabled" \
    test "$(in_root systemctl is-enabled kiosk.service 2>/dev/null)" = enabled

verify=$(in_root systemd-analyze verify kiosk.service kiosk-usb-mount@sdb1.service 2>&1) && status=0 || status=$?
if [ $status = 0 ] && [ -z "$verify" ]; then
    pass "systemd-analyze verify kiosk.service kiosk-usb-mount@sdb1.service: no complaint"
elif [ $status = 0 ]; then
    pass "systemd-analyze verify kiosk.service kiosk-usb-mount@sdb1.service (exit 0), said:"
    sed 's/^/    /' <<<"$verify"
else
    fail "systemd-analyze verify kiosk.service kiosk-usb-mount@sdb1.service (exit $status):"
    sed 's/^/    /' <<<"$verify"
fi

version=$(in_root kiosk --version 2>&1) && status=0 || status=$?
if [ $status = 0 ]; then pass "kiosk --version: $version"; else fail "kiosk --version (exit $status): $version"; fi

checked=$(in_root kiosk check /usr/share/kiosk/sample 2>&1) && status=0 || status=$?
if [ $status = 0 ]; then
    pass "kiosk check /usr/share/kiosk/sample: $(tail -n 1 <<<"$checked")"
else
    fail "kiosk check /usr/share/kiosk/sample (exit $status):"
    tail -n 10 <<<"$checked" | sed 's/^/    /'
fi

# As the service would: the user kiosk, the installed config (data_dir /var/lib/kiosk), the
# built-in sample hall from /usr/share/kiosk/sample.
found=$(in_root setpriv --reuid=kiosk --regid=kiosk --init-groups \
    env HOME=/var/lib/kiosk KIOSK_CONFIG=/etc/kiosk/kiosk.toml kiosk search --limit 1 yyzz 2>&1) && status=0 || status=$?
if [ $status = 0 ] && [ -n "$(ls -A "$root/var/lib/kiosk/index" 2>/dev/null)" ]; then
    pass "the user kiosk searches the sample hall (index in /var/lib/kiosk): $(grep -m 1 . <<<"$found")"
else
    fail "the user kiosk cannot search the sample hall (exit $status):"
    tail -n 10 <<<"$found" | sed 's/^/    /'
fi

# What deploy/install.sh did besides installing the package.
check "install.sh: the default target is graphical.target" \
    test "$(in_root systemctl get-default 2>/dev/null)" = graphical.target
check "install.sh: getty@tty1 is disabled (no login prompt on the kiosk's screen)" \
    test ! -e "$root/etc/systemd/system/getty.target.wants/getty@tty1.service"
check "install.sh: seatd.service is enabled" \
    test "$(in_root systemctl is-enabled seatd.service 2>/dev/null)" = enabled
check "install.sh: SysRq keys are off (kernel.sysrq = 0)" \
    grep -qx 'kernel.sysrq = 0' "$root/etc/sysctl.d/90-kiosk.conf"
check "install.sh: ctrl-alt-del.target is masked" \
    test "$(readlink "$root/etc/systemd/system/ctrl-alt-del.target")" = /dev/null
check "install.sh: the office's key is pinned as /etc/kiosk/keys/office.pub" \
    cmp -s "$root/tmp/office.pub" "$root/etc/kiosk/keys/office.pub"
pin_state=$(in_root stat -c '%U:%G %a' /etc/kiosk/admin-pin 2>/dev/null || true)
check "install.sh: the admin PIN hash is root:kiosk 640 (it is '$pin_state')" test "$pin_state" = "root:kiosk 640"
check "install.sh: the PIN is kept as an Argon2id hash" grep -q 'argon2id' "$root/etc/kiosk/admin-pin"
check "install.sh: the PIN itself is in no file under /etc, /var/lib/kiosk or /tmp, nor in install.sh's output" \
    bash -c "! grep -rqs '$pin' '$root/etc' '$root/var/lib/kiosk' '$root/tmp/install.log' '$root/tmp/install-again.log'"
# The PIN set again by hand, as docs/deploy.md says (`sudo kiosk admin set-pin`), over the file
# and then afresh: either way the user kiosk can read it and nobody else.
printf '13572468\n' | in_root kiosk admin set-pin >/dev/null 2>&1 || fail "kiosk admin set-pin (again) failed"
pin_state=$(in_root stat -c '%U:%G %a' /etc/kiosk/admin-pin 2>/dev/null || true)
check "kiosk admin set-pin over it keeps root:kiosk 640 (it is '$pin_state')" test "$pin_state" = "root:kiosk 640"
rm -f "$root/etc/kiosk/admin-pin"
printf '13572468\n' | in_root kiosk admin set-pin >/dev/null 2>&1 || fail "kiosk admin set-pin (afresh) failed"
pin_state=$(in_root stat -c '%U:%G %a' /etc/kiosk/admin-pin 2>/dev/null || true)
check "kiosk admin set-pin as root makes it root:kiosk 640 (it is '$pin_state')" test "$pin_state" = "root:kiosk 640"
check "the user kiosk can read the PIN hash" \
    in_root setpriv --reuid=kiosk --regid=kiosk --init-groups head -c 10 /etc/kiosk/admin-pin

checked=$(in_root kiosk config check 2>&1) && status=0 || status=$?
if [ $status = 0 ]; then
    pass "kiosk config check of the installed config: $(tail -n 1 <<<"$checked")"
else
    fail "kiosk config check of the installed config (exit $status):"
    sed 's/^/    /' <<<"$checked"
fi

# The package's binary has Slint's KMS backend (for a terminal without cage): it links libinput
# and libseat, and with no screen and no seat in the root it must say so and exit 5, not crash.
check "the KMS backend is linked (Depends: libinput10, libseat1)" \
    bash -c "grep -q 'libinput10' <<<'$depends' && grep -q 'libseat1' <<<'$depends'"
kms=$(in_root env KIOSK_CONFIG=/dev/null KIOSK_DATA_DIR=/tmp/kms-data SLINT_BACKEND=linuxkms-software \
    timeout 120 kiosk run --fullscreen 2>&1) && status=0 || status=$?
if [ $status = 5 ] && grep -q 'cannot open the kiosk window' <<<"$kms"; then
    pass "SLINT_BACKEND=linuxkms-software with no screen: '$(grep -m 1 'cannot open' <<<"$kms")' (exit 5)"
else
    fail "SLINT_BACKEND=linuxkms-software kiosk run with no screen (exit $status, expected 5):"
    head -n 5 <<<"$kms" | sed 's/^/    /'
fi

printf '\n--- dpkg -L kiosk ---\n%s\n--- Depends: %s\n\n' "$listing" "$depends"

say "apt-get purge -y kiosk (in the root)"
if in_root env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q kiosk >"$root/tmp/purge.log" 2>&1; then
    pass "apt-get purge kiosk"
else
    fail "apt-get purge kiosk:"
    tail -n 10 "$root/tmp/purge.log" | sed 's/^/    /'
fi
check "after purge: no /usr/bin/kiosk" test ! -e "$root/usr/bin/kiosk"
check "after purge: no /var/lib/kiosk" test ! -e "$root/var/lib/kiosk"
check "after purge: no /etc/kiosk" test ! -e "$root/etc/kiosk"
check "after purge: no user kiosk" bash -c "! chroot '$root' getent passwd kiosk"
check "after purge: no group kiosk" bash -c "! chroot '$root' getent group kiosk"
check "after purge: no graphical.target.wants/kiosk.service" \
    test ! -L "$root/etc/systemd/system/graphical.target.wants/kiosk.service"

if [ $failed = 0 ]; then
    echo "PASS test-deb: all checks passed"
    exit 0
fi
echo "FAIL test-deb: $failed check(s) failed"
exit 1
