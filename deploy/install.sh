#!/bin/sh
# deploy/install.sh: turns a plain Debian 12 box with a touch screen into a kiosk terminal
# (docs/deploy.md). Run it as root; it asks nothing and can be run again (for an update, a new
# key or a new PIN) with the same result.
#
# What it does:
#   1. installs the kiosk package with apt, which also installs what it needs from the Debian
#      mirror (cage, the Wayland compositor; seatd; xwayland ...). The package creates the user
#      kiosk and /var/lib/kiosk, and enables kiosk.service;
#   2. boots into graphical.target from now on, and gives tty1 to the kiosk (getty@tty1 off);
#   3. turns off what a keyboard plugged into the terminal could do outside the kiosk: the
#      kernel's SysRq keys and Ctrl+Alt+Del;
#   4. with --pubkey, pins the office's public key (/etc/kiosk/keys/office.pub, the key that
#      /etc/kiosk/kiosk.toml names); with --pin or --pin-file, sets the admin PIN;
#   5. (re)starts the kiosk, and says how to check it.
#
# Usage:
#   deploy/install.sh [PACKAGE.deb] [--pubkey FILE] [--pin PIN | --pin-file FILE] [--no-start]
#     PACKAGE.deb     the package (default: the newest target/debian/kiosk_*.deb of this source
#                     tree, else ./kiosk_*.deb)
#     --pubkey FILE   the office's public key file (KEY.pub from `kiosk bundle keygen`)
#     --pin PIN       the admin PIN (6 to 12 digits). It is visible to other users of this box while
#                     the script runs: prefer --pin-file
#     --pin-file FILE a file whose first line is the admin PIN (delete it afterwards)
#     --no-start      do not start or restart the kiosk now (it starts at the next boot)

set -eu
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH

say() { printf 'kiosk install: %s\n' "$*"; }
die() {
    printf 'kiosk install: ERROR: %s\n' "$*" >&2
    exit 1
}
done_list=
did() {
    done_list="$done_list
  - $*"
    say "$*"
}

here=$(cd "$(dirname "$0")" && pwd)
deb=
pubkey=
pin=
pin_file=
start=yes
while [ $# -gt 0 ]; do
    case $1 in
        --pubkey) pubkey=${2:?--pubkey needs a file}; shift ;;
        --pin) pin=${2:?--pin needs a PIN}; shift ;;
        --pin-file) pin_file=${2:?--pin-file needs a file}; shift ;;
        --no-start) start=no ;;
        -h | --help) sed -n '2,/^$/s/^# \{0,1\}//p' "$0"; exit 0 ;;
        -*) die "unknown option '$1' (see --help)" ;;
        *) [ -z "$deb" ] || die "only one package file, please"; deb=$1 ;;
    esac
    shift
done

[ "$(id -u)" = 0 ] || die "run this as root (sudo $0 ...)"

# --- Check the arguments before changing anything ----------------------------------------------
if [ -z "$deb" ]; then
    deb=$(ls -t "$here"/../target/debian/kiosk_*.deb ./kiosk_*.deb 2>/dev/null | head -n 1 || true)
    [ -n "$deb" ] || die "no package given and none found in target/debian/ or here; build one with 'cargo deb', or give its path"
fi
[ -f "$deb" ] || die "$deb does not exist"
deb=$(realpath "$deb")
case $deb in *.deb) ;; *) die "$deb is not a .deb file" ;; esac

if [ -n "$pubkey" ]; then
    [ -r "$pubkey" ] || die "cannot read the public key file $pubkey"
    head -n 1 "$pubkey" | grep -q '^kiosk-public-key ed25519 ' ||
        die "$pubkey is not a kiosk public key (its first line should start with 'kiosk-public-key ed25519'; use KEY.pub, never the secret key)"
fi
if [ -n "$pin_file" ]; then
    [ -z "$pin" ] || die "--pin and --pin-file: give one"
    [ -r "$pin_file" ] || die "cannot read the PIN file $pin_file"
    pin=$(head -n 1 "$pin_file" | tr -d '\r\n')
fi
if [ -n "$pin" ]; then
    # The PIN pad has digits only; `kiosk admin set-pin` checks the rest (its length).
    case $pin in *[!0-9]*) die "the PIN must be digits only" ;; esac
fi

if [ -r /etc/os-release ]; then
    . /etc/os-release
    [ "${VERSION_CODENAME:-}" = bookworm ] ||
        say "note: this is ${PRETTY_NAME:-not Debian 12}; the package is made for Debian 12 (bookworm)"
fi
systemd_up=no
[ -d /run/systemd/system ] && systemd_up=yes

# --- 1. The package -------------------------------------------------------------------------
say "installing $deb and what it needs (apt-get; this downloads cage and its libraries)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null || die "apt-get update failed; is the network up and /etc/apt/sources.list right?"
# --force-confold: a kiosk.toml changed on this box is kept as it is on an update.
apt-get install -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$deb" ||
    die "apt-get could not install $deb"
did "installed $(dpkg-query -W -f='${Package} ${Version}' kiosk) with cage $(dpkg-query -W -f='${Version}' cage) (files: dpkg -L kiosk)"

# --- 2. Boot into the kiosk -----------------------------------------------------------------
if [ "$(systemctl get-default 2>/dev/null || true)" != graphical.target ]; then
    systemctl set-default graphical.target >/dev/null 2>&1 || die "systemctl set-default graphical.target failed"
fi
did "the default target is graphical.target (it starts kiosk.service at boot)"
systemctl disable --quiet getty@tty1.service 2>/dev/null || true
did "getty@tty1 disabled: no login prompt on tty1, the kiosk has it (to log in on the box, use SSH)"
systemctl enable --quiet seatd.service
systemctl enable --quiet kiosk.service
did "seatd.service and kiosk.service enabled"

# --- 3. Keys on a keyboard --------------------------------------------------------------------
# Under the kiosk, cage holds the keyboard (no console switching), but the kernel's SysRq keys
# (Alt+SysRq+B reboots, +K kills the screen) always work, and Ctrl+Alt+Del reaches systemd in the
# seconds a restart takes.
cat >/etc/sysctl.d/90-kiosk.conf <<'EOF'
# Written by the kiosk's deploy/install.sh: no Magic SysRq keys for a visitor's keyboard.
kernel.sysrq = 0
EOF
sysctl -q -p /etc/sysctl.d/90-kiosk.conf >/dev/null 2>&1 || true
systemctl mask --quiet ctrl-alt-del.target 2>/dev/null || true
mkdir -p /etc/systemd/system.conf.d
cat >/etc/systemd/system.conf.d/90-kiosk.conf <<'EOF'
# Written by the kiosk's deploy/install.sh: pressing Ctrl+Alt+Del seven times does not reboot.
[Manager]
CtrlAltDelBurstAction=none
EOF
did "SysRq keys off (/etc/sysctl.d/90-kiosk.conf), Ctrl+Alt+Del does nothing (ctrl-alt-del.target masked)"

# --- 4. Key and PIN ---------------------------------------------------------------------------
if [ -n "$pubkey" ]; then
    install -d -m 0755 /etc/kiosk/keys
    install -m 0644 "$pubkey" /etc/kiosk/keys/office.pub
    did "pinned the public key $(head -n 1 "$pubkey" | cut -c1-60)... as /etc/kiosk/keys/office.pub"
elif [ ! -e /etc/kiosk/keys/office.pub ]; then
    say "note: no public key pinned yet, so no content bundle will be installed; run again with --pubkey FILE"
fi
if [ -n "$pin" ]; then
    printf '%s\n' "$pin" | KIOSK_CONFIG=/etc/kiosk/kiosk.toml kiosk admin set-pin >/dev/null ||
        die "kiosk admin set-pin failed"
    pin=
    pin_path=$(sed -n 's/^[[:space:]]*pin_file[[:space:]]*=[[:space:]]*"\(.*\)".*/\1/p' /etc/kiosk/kiosk.toml | head -n 1)
    pin_path=${pin_path:-/etc/kiosk/admin-pin}
    if [ -f "$pin_path" ]; then
        chown root:kiosk "$pin_path"
        chmod 0640 "$pin_path"
    fi
    did "admin PIN set (its Argon2 hash is in $pin_path, readable by root and the kiosk only)"
elif [ ! -e /etc/kiosk/admin-pin ]; then
    say "note: no admin PIN yet, so admin mode cannot be opened; run again with --pin-file FILE"
fi

# --- 5. Start -----------------------------------------------------------------------------------
if [ $start = no ]; then
    did "not started (--no-start); it starts at the next boot"
elif [ $systemd_up = no ]; then
    did "not started: systemd is not running here (a chroot?); it starts at the next boot"
else
    systemctl daemon-reload
    systemctl start seatd.service || die "seatd did not start: journalctl -u seatd"
    say "starting the kiosk (waits until its screen is up, at most two minutes)"
    if systemctl restart kiosk.service; then
        did "kiosk.service started: the screen shows the kiosk"
    else
        journalctl -u kiosk.service -n 30 --no-pager >&2 || true
        die "kiosk.service did not start; see above, 'systemctl status kiosk' and 'journalctl -u kiosk'"
    fi
fi

cat <<EOF

kiosk install: done.$done_list

Check it:
  systemctl status kiosk           is it running (active (running)), since when
  journalctl -u kiosk -b           what it logged since the boot (-f: follow)
  kiosk config check               the config file /etc/kiosk/kiosk.toml
  kiosk bundle status              the installed content
Settings: /etc/kiosk/kiosk.toml, then 'systemctl restart kiosk'. Guide: /usr/share/doc/kiosk/deploy.md
EOF
