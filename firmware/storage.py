"""Refuse to keep records on storage that a power cut would wipe.

The device image has a read-only (overlay) root; all state lives on the ext4 data partition
mounted at /data. :func:`check_persistent` finds the mount that holds a path (the longest
mount-point prefix in /proc/self/mountinfo) and rejects volatile file systems.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from kiosk.errors import NotPersistentError, StoreError
from kiosk.store.files import write_synced

MOUNTINFO = Path("/proc/self/mountinfo")

VOLATILE_FSTYPES: frozenset[str] = frozenset(
    {
        "tmpfs", "ramfs", "rootfs", "overlay", "overlayfs", "aufs", "unionfs", "squashfs",
        "devtmpfs", "proc", "sysfs", "devpts", "cgroup", "cgroup2", "debugfs", "tracefs",
        "securityfs", "configfs", "hugetlbfs", "mqueue", "bpf", "pstore", "efivarfs",
        "iso9660", "zram",
    }
)  # fmt: skip
"""File systems whose contents vanish at power-off, are read-only images, or are not storage."""

PROBE_NAME = ".kiosk-write-probe"


@dataclass(frozen=True)
class Mount:
    """One line of mountinfo: where it is mounted, the file system type and its source."""

    mount_point: PurePosixPath
    fstype: str
    source: str


_OCTAL = re.compile(r"\\([0-7]{3})")


def _unescape(field: str) -> str:
    """Undo mountinfo's octal escapes (space is \\040, tab \\011, newline \\012)."""
    return _OCTAL.sub(lambda m: chr(int(m.group(1), 8)), field)


def parse_mountinfo(text: str) -> list[Mount]:
    """Parse /proc/<pid>/mountinfo text (proc(5)) into mounts, in file order."""
    mounts = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        fields = line.split()
        try:
            sep = fields.index("-", 6)
            mount_point = _unescape(fields[4])
            fstype, source = fields[sep + 1], _unescape(fields[sep + 2])
        except (ValueError, IndexError) as err:
            raise StoreError(f"mountinfo line {n} is malformed: {line[:80]!r}") from err
        mounts.append(Mount(PurePosixPath(mount_point), fstype, source))
    return mounts


def mount_of(path: Path, mounts: list[Mount]) -> Mount:
    """The mount that holds ``path``: longest mount-point prefix; the later of equal ones."""
    target = PurePosixPath(os.path.realpath(path))
    best: Mount | None = None
    for m in mounts:
        if (m.mount_point == target or m.mount_point in target.parents) and (
            best is None or len(m.mount_point.parts) >= len(best.mount_point.parts)
        ):
            best = m
    if best is None:
        raise StoreError(f"no mount holds {target} (is /proc mounted?)")
    return best


def check_persistent(path: Path, mountinfo: str | None = None) -> None:
    """Raise NotPersistentError if ``path`` (existing or not) would not survive a power cut."""
    if mountinfo is None:
        try:
            mountinfo = MOUNTINFO.read_text(encoding="utf-8", errors="replace")
        except OSError as err:
            raise StoreError(f"cannot read {MOUNTINFO}: {err.strerror}") from err
    mount = mount_of(path, parse_mountinfo(mountinfo))
    if mount.fstype in VOLATILE_FSTYPES:
        raise NotPersistentError(
            f"data directory {path} is on {mount.fstype} (mounted at {mount.mount_point}), "
            "which does not survive a power cut or is read-only; put it on the data "
            "partition (e.g. /data/kiosk) or set paths.require_persistent = false on a dev box"
        )


def require_writable(path: Path) -> None:
    """Create ``path`` if needed and prove it accepts a durable (fsynced) write."""
    probe = path / PROBE_NAME
    try:
        path.mkdir(parents=True, exist_ok=True)
        write_synced(probe, b"ok\n", exclusive=False)
        probe.unlink()
    except OSError as err:
        raise StoreError(f"data directory {path} is not writable: {err.strerror}") from err


def ensure_data_dir(path: Path, *, require_persistent: bool = True) -> None:
    """Start-up check for the data directory: persistent (if required) and writable."""
    if require_persistent:
        check_persistent(path)
    require_writable(path)
