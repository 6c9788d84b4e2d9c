#!/bin/sh
# Customize a Raspberry Pi OS (bookworm, arm64) root file system into a Kios Perlinsos kiosk.
#
#   customize.sh ROOT              everything (run by the rpi-image-gen layer / pi-gen stage)
#   customize.sh ROOT --files-only only file placement and unit enablement, no chroot
#                                  (what the test suite runs on a scratch directory)
#
# Environment: KIOSK_WHEELHOUSE  directory of wheels (the kiosk wheel and its dependencies,
#                                built by build.sh) installed offline into /opt/kiosk/venv.
# No secrets are put into the image: keys, certificates and the device config are written to
# the data partition by `kiosk-provision` on site.
set -eu

ROOT=${1:?usage: customize.sh ROOT [--files-only]}
MODE=${2:-all}
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
FW="$REPO/firmware"
log() { echo "customize: $*"; }

[ -d "$ROOT" ] || { echo "customize: $ROOT is not a directory" >&2; exit 2; }

# 1. Files: overlay tree, units, drop-ins, cursor theme, docs -------------------------------
log "installing files into $ROOT"
cp -R "$HERE/rootfs/." "$ROOT/"
install -d "$ROOT/etc/systemd/system" "$ROOT/etc/systemd/journald.conf.d" \
    "$ROOT/etc/systemd/system.conf.d" "$ROOT/opt/kiosk/docs" "$ROOT/data" \
    "$ROOT/var/log/journal" "$ROOT/boot/firmware"
install -m 0644 "$FW/systemd/kiosk.service" "$FW/systemd/kiosk-browser.service" \
    "$ROOT/etc/systemd/system/"
install -m 0644 "$FW/systemd/journald.conf.d/50-kiosk.conf" "$ROOT/etc/systemd/journald.conf.d/"
install -m 0644 "$FW/systemd/system.conf.d/50-watchdog.conf" "$ROOT/etc/systemd/system.conf.d/"
install -m 0644 "$REPO/docs/firmware.md" "$ROOT/opt/kiosk/docs/firmware.md"
python3 "$FW/cursor.py" "$ROOT/usr/share/icons/kiosk-none"

# 2. Boot configuration: camera, display, watchdog; quiet boot with overlayroot -------------
config="$ROOT/boot/firmware/config.txt"
touch "$config"
if ! grep -q '^# --- Kios Perlinsos kiosk' "$config"; then
    cat "$HERE/config.txt.kiosk" >> "$config"
fi
cmdline="$ROOT/boot/firmware/cmdline.txt"
[ -s "$cmdline" ] || echo "console=tty3 root=LABEL=ROOT rootfstype=ext4 fsck.repair=yes rootwait" > "$cmdline"
# no first-boot root expansion: the free space becomes the data partition
sed -i -e 's# init=/usr/lib/raspberrypi-sys-mods/firstboot##' \
    -e 's# quiet init=/usr/lib/raspi-config/init_resize.sh##' "$cmdline"
for arg in overlayroot=tmpfs:recurse=0 quiet loglevel=3 logo.nologo \
           vt.global_cursor_default=0 consoleblank=0; do
    grep -q "\(^\| \)$arg\( \|\$\)" "$cmdline" || sed -i "1 s/\$/ $arg/" "$cmdline"
done

# 3. The data partition and the journal on it ----------------------------------------------
fstab="$ROOT/etc/fstab"
touch "$fstab"
if ! grep -q 'LABEL=KIOSKDATA' "$fstab"; then
    cat >> "$fstab" <<'FSTAB'
# Kios Perlinsos: all writable state (database, keys, logs, models) on the data partition.
LABEL=KIOSKDATA  /data             ext4  defaults,noatime,commit=5,errors=remount-ro,nofail,x-systemd.device-timeout=30s  0  2
/data/log/journal /var/log/journal none  bind,nofail,x-systemd.requires-mounts-for=/data  0  0
FSTAB
fi

# 4. No secrets or identity in the image --------------------------------------------------
rm -f "$ROOT"/etc/ssh/ssh_host_*
: > "$ROOT/etc/machine-id"
rm -f "$ROOT/var/lib/dbus/machine-id"
if grep -rIl -e 'PRIVATE[ ]KEY' "$HERE/rootfs" "$FW/systemd" 2>/dev/null; then
    echo "customize: key material found in the image sources" >&2; exit 1
fi

# 5. Units --------------------------------------------------------------------------------
systemctl --root="$ROOT" enable kiosk.service kiosk-browser.service kiosk-data-init.service
systemctl --root="$ROOT" set-default graphical.target
systemctl --root="$ROOT" mask getty@tty1.service

[ "$MODE" = "--files-only" ] && { log "files only: done"; exit 0; }

# 6. Inside the image: users, locale, the application ---------------------------------------
log "creating users"
chroot "$ROOT" sh -eu <<'CHROOT'
getent group gpio >/dev/null || groupadd --system gpio
id kiosk >/dev/null 2>&1 || useradd --system --home-dir /data/kiosk --no-create-home \
    --shell /usr/sbin/nologin --groups gpio,video,render,input,audio,lp kiosk
passwd --lock kiosk
# the browser runs as its own user, which cannot read /data (see kiosk-browser.service)
id kiosk-browser >/dev/null 2>&1 || useradd --system --home-dir /run/kiosk-browser \
    --no-create-home --shell /usr/sbin/nologin --groups video,render,input,audio kiosk-browser
passwd --lock kiosk-browser
# technician: SSH key only (keys live on /data, installed by kiosk-provision), sudo
id tech >/dev/null 2>&1 || useradd --create-home --shell /bin/bash tech
usermod -aG sudo,adm,systemd-journal tech
passwd --lock tech
# no password login for anyone, whatever the base layer created
for u in root $(awk -F: '$3 >= 1000 && $3 < 65534 { print $1 }' /etc/passwd); do
    passwd --lock "$u"
done
sed -i 's/^# *\(id_ID.UTF-8\)/\1/; s/^# *\(en_US.UTF-8\)/\1/' /etc/locale.gen
locale-gen
ln -sf /usr/share/zoneinfo/Asia/Jakarta /etc/localtime
echo Asia/Jakarta > /etc/timezone
CHROOT

log "installing the kiosk application into /opt/kiosk/venv"
: "${KIOSK_WHEELHOUSE:?set KIOSK_WHEELHOUSE to the wheel directory made by build.sh}"
rm -rf "$ROOT/tmp/kiosk-wheels"
cp -R "$KIOSK_WHEELHOUSE" "$ROOT/tmp/kiosk-wheels"
chroot "$ROOT" sh -eu <<'CHROOT'
python3 -m venv --system-site-packages /opt/kiosk/venv
/opt/kiosk/venv/bin/pip install --no-index --find-links /tmp/kiosk-wheels \
    --no-cache-dir kios-perlinsos
rm -rf /tmp/kiosk-wheels
find /opt/kiosk/venv -name '__pycache__' -prune -exec rm -rf {} +
update-initramfs -u -k all
CHROOT
log "done"
