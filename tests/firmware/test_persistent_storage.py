"""The data directory must be on persistent, writable storage."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from firmware.storage import (
    check_persistent,
    ensure_data_dir,
    mount_of,
    parse_mountinfo,
    require_writable,
)
from kiosk.errors import NotPersistentError, StoreError

# A Raspberry Pi with the read-only overlay root and the ext4 data partition.
PI_MOUNTINFO = """\
22 1 0:20 / / rw,noatime - overlay overlayroot rw,lowerdir=/media/root-ro,upperdir=/media/root-rw/overlay
23 22 179:2 / /media/root-ro ro,relatime - ext4 /dev/mmcblk0p2 ro
24 22 0:21 / /media/root-rw rw,relatime - tmpfs tmpfs-root rw
25 22 0:5 / /dev rw,nosuid shared:2 - devtmpfs udev rw,size=3956k
26 22 0:25 / /run rw,nosuid,nodev shared:5 - tmpfs tmpfs rw,size=812k,mode=755
27 22 179:3 / /data rw,noatime shared:7 - ext4 /dev/mmcblk0p3 rw,commit=5
28 27 0:30 / /data/scratch rw - tmpfs tmpfs rw
29 22 179:1 / /boot/firmware rw,relatime - vfat /dev/mmcblk0p1 rw
30 22 179:4 / /mnt/my\\040stick rw - ext4 /dev/sda1 rw
"""  # noqa: E501


def test_parse_mountinfo() -> None:
    mounts = parse_mountinfo(PI_MOUNTINFO)
    assert len(mounts) == 9
    assert (str(mounts[0].mount_point), mounts[0].fstype) == ("/", "overlay")
    assert str(mounts[-1].mount_point) == "/mnt/my stick"  # \040 unescaped
    assert mounts[5].source == "/dev/mmcblk0p3"


def test_malformed_mountinfo_is_a_clear_error() -> None:
    with pytest.raises(StoreError, match="line 1 is malformed"):
        parse_mountinfo("22 1 0:20 / / rw no-separator-here\n")


@pytest.mark.parametrize(
    "path", ["/data/kiosk", "/data/kiosk/not/created/yet", "/data", "/mnt/my stick/kiosk"]
)
def test_data_partition_is_persistent(path: str) -> None:
    check_persistent(Path(path), PI_MOUNTINFO)


@pytest.mark.parametrize(
    ("path", "fstype"),
    [
        ("/var/lib/kiosk", "overlay"),  # the read-only root's overlay: lost at power-off
        ("/home/kiosk/data", "overlay"),
        ("/run/kiosk", "tmpfs"),
        ("/data/scratch/kiosk", "tmpfs"),  # longest prefix wins over /data
        ("/dev/shm/kiosk", "devtmpfs"),
    ],
)
def test_volatile_locations_refused(path: str, fstype: str) -> None:
    with pytest.raises(NotPersistentError, match=f"on {fstype}") as exc:
        check_persistent(Path(path), PI_MOUNTINFO)
    assert isinstance(exc.value, OSError)  # also catchable as the builtin it resembles
    assert "/data/kiosk" in str(exc.value)  # tells the technician where it belongs


def test_stacked_mount_later_wins() -> None:
    text = PI_MOUNTINFO + "40 27 0:40 / /data rw - tmpfs tmpfs rw\n"
    with pytest.raises(NotPersistentError):
        check_persistent(Path("/data/kiosk"), text)


def test_no_matching_mount() -> None:
    with pytest.raises(StoreError, match="no mount holds"):
        mount_of(Path("/data"), parse_mountinfo("27 22 179:3 / /srv rw - ext4 /dev/sda1 rw\n"))


def _real_tmpfs() -> Path | None:
    """A writable tmpfs directory on this machine, read from the real mountinfo."""
    for m in parse_mountinfo(Path("/proc/self/mountinfo").read_text()):
        p = Path(str(m.mount_point))
        if m.fstype == "tmpfs" and os.access(p, os.W_OK):
            return p
    return None


def test_app_refuses_real_tmpfs_data_dir() -> None:
    tmpfs = _real_tmpfs()
    if tmpfs is None:
        pytest.skip("no writable tmpfs mounted on this machine")
    with pytest.raises(NotPersistentError, match="tmpfs"):
        ensure_data_dir(tmpfs / f"kiosk-{os.getpid()}")
    assert not (tmpfs / f"kiosk-{os.getpid()}").exists()  # refused before creating anything


def test_dev_box_may_opt_out(tmp_path: Path) -> None:
    ensure_data_dir(tmp_path / "data", require_persistent=False)
    assert (tmp_path / "data").is_dir()
    assert not (tmp_path / "data" / ".kiosk-write-probe").exists()


def test_unwritable_data_dir(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        blocker = tmp_path / "file"
        blocker.write_text("not a directory")
        target = blocker / "data"  # mkdir under a regular file fails even for root
    else:
        ro = tmp_path / "ro"
        ro.mkdir(mode=0o500)
        target = ro / "data"
    with pytest.raises(StoreError, match="not writable"):
        require_writable(target)


def test_kiosk_app_refuses_tmpfs_data_dir() -> None:
    """The composition root's start-up check uses firmware.storage and refuses tmpfs."""
    from kiosk.app import prepare_data_dir
    from kiosk.config import parse_config

    tmpfs = _real_tmpfs()
    if tmpfs is None:
        pytest.skip("no writable tmpfs mounted on this machine")
    target = tmpfs / f"kiosk-app-{os.getpid()}"
    cfg = parse_config({"paths": {"data_dir": str(target), "require_persistent": True}})
    try:
        with pytest.raises(NotPersistentError, match="tmpfs"):
            prepare_data_dir(cfg)
    finally:
        if target.exists():
            target.rmdir()
