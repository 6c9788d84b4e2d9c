"""The OS image recipe: package lists agree, customize.sh builds the expected tree, no secrets."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from firmware.cursor import CURSOR_NAMES, IMAGE_TYPE, MAGIC, blank_cursor, write_theme
from kiosk.config import REPO_ROOT

IMAGE = REPO_ROOT / "firmware" / "image"
STOCK_UNITS = (Path("/usr/lib/systemd/system"), Path("/lib/systemd/system"))
SCRIPTS = (
    IMAGE / "customize.sh",
    IMAGE / "build.sh",
    IMAGE / "rootfs/usr/local/sbin/kiosk-data-init",
    IMAGE / "pi-gen/stage-kiosk/00-kiosk/01-run.sh",
)


def package_list(path: Path) -> list[str]:
    return [
        ln.strip() for ln in path.read_text().splitlines() if ln.strip() and not ln.startswith("#")
    ]


def layer_packages(path: Path) -> list[str]:
    text = path.read_text()
    block = text.split("  packages:\n", 1)[1].split("  customize-hooks:", 1)[0]
    return [m.group(1) for m in re.finditer(r"^\s+- ([a-z0-9.+-]+)\s*$", block, re.M)]


def test_package_lists_agree() -> None:
    canonical = package_list(IMAGE / "packages.txt")
    assert {"cage", "chromium", "python3-lgpio", "python3-picamera2", "overlayroot"} <= set(
        canonical
    )
    assert layer_packages(IMAGE / "rpi-image-gen/layer/kiosk-perlinsos.yaml") == canonical
    assert package_list(IMAGE / "pi-gen/stage-kiosk/00-kiosk/00-packages") == canonical


def test_layer_metadata_and_hook() -> None:
    text = (IMAGE / "rpi-image-gen/layer/kiosk-perlinsos.yaml").read_text()
    assert text.startswith("# METABEGIN") and "# METAEND\n---\n" in text
    assert "X-Env-Layer-Name: kiosk-perlinsos" in text
    assert 'customize.sh" "$1"' in text
    cfg = (IMAGE / "rpi-image-gen/config/kiosk-perlinsos.yaml").read_text()
    assert "app: kiosk-perlinsos" in cfg


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_shell_scripts_parse(script: Path) -> None:
    shell = "bash" if script.read_text().startswith("#!/bin/bash") else "sh"
    result = subprocess.run([shell, "-n", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert script.stat().st_mode & 0o111, f"{script.name} is not executable"


SECRET_PATTERNS = re.compile(
    r"PRIVATE KEY|BEGIN OPENSSH|password\s*=\s*\S|\$6\$|\$y\$|FIRST_USER_PASS=\S", re.I
)


def test_no_secrets_in_recipe() -> None:
    offenders = [
        str(p.relative_to(IMAGE))
        for p in IMAGE.rglob("*")
        if p.is_file()
        and "wheelhouse" not in p.parts
        and SECRET_PATTERNS.search(p.read_text("latin-1"))
    ]
    assert offenders == []


@pytest.fixture(scope="module")
def built_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Run customize.sh --files-only on a scratch root holding the stock systemd units."""
    tmp_path = tmp_path_factory.mktemp("image")
    if shutil.which("systemctl") is None:
        pytest.skip("systemctl is not installed (apt install systemd)")
    stock = next((d for d in STOCK_UNITS if (d / "graphical.target").exists()), None)
    if stock is None:
        pytest.fail("systemctl is installed but no stock unit directory was found")
    root = tmp_path / "rootfs"
    shutil.copytree(stock, root / "usr/lib/systemd/system", symlinks=True)
    (root / "boot/firmware").mkdir(parents=True)
    (root / "boot/firmware/cmdline.txt").write_text(
        "console=serial0,115200 console=tty1 root=PARTUUID=0badc0de-02 rootfstype=ext4 "
        "fsck.repair=yes rootwait quiet init=/usr/lib/raspberrypi-sys-mods/firstboot\n"
    )
    (root / "etc/ssh").mkdir(parents=True)
    (root / "etc/ssh/ssh_host_ed25519_key").write_text("left over from the build\n")
    (root / "etc/machine-id").write_text("0123456789abcdef0123456789abcdef\n")
    for _ in range(2):  # twice: the script must be idempotent
        result = subprocess.run(
            ["sh", str(IMAGE / "customize.sh"), str(root), "--files-only"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
    return root


def test_customize_places_units_and_enables_them(built_root: Path) -> None:
    system = built_root / "etc/systemd/system"
    for unit in ("kiosk.service", "kiosk-browser.service", "kiosk-data-init.service"):
        assert (system / unit).is_file()
    assert (system / "multi-user.target.wants/kiosk.service").is_symlink()
    assert (system / "graphical.target.wants/kiosk-browser.service").is_symlink()
    assert (system / "sysinit.target.wants/kiosk-data-init.service").is_symlink()
    assert (system / "default.target").resolve().name == "graphical.target"
    assert (built_root / "etc/systemd/system.conf.d/50-watchdog.conf").is_file()
    assert (built_root / "etc/systemd/journald.conf.d/50-kiosk.conf").is_file()
    assert (built_root / "opt/kiosk/bin/wait-for-ui").stat().st_mode & 0o111


def test_customize_boot_config(built_root: Path) -> None:
    config = (built_root / "boot/firmware/config.txt").read_text()
    for line in ("camera_auto_detect=1", "display_auto_detect=1", "dtparam=watchdog=on"):
        assert re.search(rf"^{re.escape(line)}$", config, re.M), line
    assert config.count("# --- Kios Perlinsos kiosk") == 1
    cmdline = (built_root / "boot/firmware/cmdline.txt").read_text()
    assert len(cmdline.splitlines()) == 1
    args = cmdline.split()
    assert "overlayroot=tmpfs:recurse=0" in args and args.count("quiet") == 1
    assert not any(a.startswith("init=") for a in args)  # no first-boot root expansion


def test_customize_data_partition(built_root: Path) -> None:
    fstab = [
        ln.split()
        for ln in (built_root / "etc/fstab").read_text().splitlines()
        if ln.strip() and not ln.startswith("#")
    ]
    (data,) = [f for f in fstab if f[1] == "/data"]
    assert data[0] == "LABEL=KIOSKDATA" and data[2] == "ext4"
    options = data[3].split(",")
    assert "noatime" in options and any(o.startswith("commit=") for o in options)
    (journal,) = [f for f in fstab if f[1] == "/var/log/journal"]
    assert journal[0] == "/data/log/journal" and "bind" in journal[3]
    tmpfiles = (built_root / "etc/tmpfiles.d/kiosk.conf").read_text()
    assert re.search(r"^d /data/kiosk\s+0700 kiosk kiosk", tmpfiles, re.M)


def test_customize_leaves_no_identity_or_keys(built_root: Path) -> None:
    assert not list((built_root / "etc/ssh").glob("ssh_host_*"))
    assert (built_root / "etc/machine-id").read_text() == ""
    sshd = (built_root / "etc/ssh/sshd_config.d/50-kiosk.conf").read_text()
    assert "PasswordAuthentication no" in sshd


def test_blank_cursor_format() -> None:
    data = blank_cursor(2)
    magic, header, _version, ntoc = struct.unpack_from("<4sIII", data)
    assert (magic, header, ntoc) == (MAGIC, 16, 1)
    kind, size, pos = struct.unpack_from("<III", data, 16)
    assert (kind, size) == (IMAGE_TYPE, 2)
    fields = struct.unpack_from("<IIIIIIIII", data, pos)
    assert fields[:2] == (36, IMAGE_TYPE) and fields[4:6] == (2, 2)
    assert data[pos + 36 :] == b"\0" * 16  # 4 fully transparent ARGB pixels
    with pytest.raises(ValueError):
        blank_cursor(0)


def test_cursor_theme_written(tmp_path: Path) -> None:
    write_theme(tmp_path / "kiosk-none")
    assert "Name=kiosk-none" in (tmp_path / "kiosk-none/index.theme").read_text()
    for name in CURSOR_NAMES:
        assert (tmp_path / "kiosk-none/cursors" / name).read_bytes() == blank_cursor()


WAIT_FOR_UI = IMAGE / "rootfs/opt/kiosk/bin/wait-for-ui"


def test_wait_for_ui_returns_when_the_ui_answers() -> None:
    import http.server
    import sys
    import threading

    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/nothing-here"  # a 404 still means "up"
        result = subprocess.run([sys.executable, str(WAIT_FOR_UI), url, "10"], timeout=30)
        assert result.returncode == 0
    finally:
        server.shutdown()
        server.server_close()


def test_wait_for_ui_gives_up_after_its_timeout() -> None:
    import socket
    import sys

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = subprocess.run(
        [sys.executable, str(WAIT_FOR_UI), f"http://127.0.0.1:{port}/", "1"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1 and "did not answer" in result.stderr
