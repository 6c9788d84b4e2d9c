"""Export the sealed backlog (every outbox record the portal has not acknowledged) to a stick.

Records are copied byte for byte (they stay sealed to the portal key); the manifest, signed by
the device key, is written last and the export folder appears under its final name only by
one rename after everything was fsynced, so a stick pulled mid-write holds a temp folder the
portal ignores, never a partial export. Nothing is purged or changed in the outbox.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.core.ids import uuid7
from kiosk.errors import StickError
from kiosk.store.files import fsync_dir, replace_file, write_synced
from kiosk.store.outbox import OutboxRepository
from kiosk.usb.layout import (
    MANIFEST,
    MAX_RECORDS,
    RECORDS,
    device_dir,
    record_path,
    sha256_hex,
    sign_manifest,
)

HEADROOM_BYTES = 1024 * 1024
"""Free space kept beyond the export's size (file-system overhead, the manifest)."""

Progress = Callable[[int, int], None]
"""``progress(done, total)`` after each record written."""


@dataclass(frozen=True)
class ExportResult:
    """One finished export."""

    export_id: str
    count: int
    bytes: int
    path: Path


def check_stick(mount_point: Path, *, require_mount: bool = True, writable: bool = True) -> Path:
    """The stick's mount point, or :class:`StickError` (``missing`` / ``read_only``)."""
    if not mount_point.is_dir() or (require_mount and not os.path.ismount(mount_point)):
        raise StickError(f"no USB stick is mounted at {mount_point}", "missing")
    if writable and (_mounted_read_only(mount_point) or not os.access(mount_point, os.W_OK)):
        raise StickError(f"the USB stick at {mount_point} is read-only", "read_only")
    return mount_point


def _mounted_read_only(path: Path) -> bool:
    # a write-protect switch or a FAT error remounts the stick read-only; root ignores modes
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def stick_error(err: OSError, where: Path) -> StickError:
    """Map an OS error while writing the stick to a :class:`StickError` with a code."""
    if err.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return StickError(f"the USB stick is full ({where})", "full")
    if err.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return StickError(f"the USB stick is read-only ({where})", "read_only")
    if err.errno in (errno.ENOENT, errno.ENODEV, errno.ENXIO):
        return StickError(f"the USB stick was removed ({where})", "missing")
    return StickError(f"the USB stick cannot be written ({where}): {err.strerror}", "io")


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``path`` via ``.<name>.tmp`` + fsync + rename + fsync of the folder."""
    replace_file(path, data, tmp=path.with_name(f".{path.name}.tmp"))


def export_backlog(
    repo: OutboxRepository,
    *,
    stick: Path,
    device_id: str,
    device_key: Ed25519PrivateKey,
    now: float,
    progress: Progress = lambda done, total: None,
) -> ExportResult:
    """Copy every unacknowledged record to ``stick`` with a signed manifest (see module doc)."""
    total = repo.counts()
    waiting = total.pending + total.sent + total.dead
    if waiting > MAX_RECORDS:
        waiting = MAX_RECORDS  # the rest goes on the next export
    export_id = uuid7(now, os.urandom(10))
    parent = device_dir(stick, device_id)
    tmp = parent / f".tmp-{export_id}"
    final = parent / export_id
    entries: list[dict[str, object]] = []
    size = 0
    try:
        parent.mkdir(parents=True, exist_ok=True)
        if parent.is_symlink() or parent.parent.is_symlink():
            raise StickError(f"the stick's {parent.parent.name} folder is a link", "io")
        for stale in parent.glob(".tmp-*"):  # an earlier export cut short (stick pulled, power)
            _remove(stale)
        _check_space(repo, stick)
        (tmp / RECORDS).mkdir(parents=True)
        after = 0
        while len(entries) < MAX_RECORDS:
            rows = repo.unacked(after, min(500, MAX_RECORDS - len(entries)))
            if not rows:
                break
            for row in rows:
                write_synced(record_path(tmp, row.record_id), row.payload)
                entries.append(
                    {
                        "record_id": row.record_id,
                        "kind": row.kind,
                        "sha256": sha256_hex(row.payload),
                        "bytes": len(row.payload),
                    }
                )
                size += len(row.payload)
                progress(len(entries), max(waiting, len(entries)))
            after = rows[-1].seq
        fsync_dir(tmp / RECORDS)
        manifest = sign_manifest(
            {
                "device_id": device_id,
                "export_id": export_id,
                "created_at": now,
                "count": len(entries),
                "records": entries,
            },
            device_key,
        )
        write_synced(tmp / MANIFEST, manifest)
        fsync_dir(tmp)
        os.rename(tmp, final)
        fsync_dir(parent)
    except StickError:
        _remove(tmp)
        raise
    except OSError as err:
        _remove(tmp)
        raise stick_error(err, stick) from err
    return ExportResult(export_id, len(entries), size, final)


def _remove(tmp: Path) -> None:
    with contextlib.suppress(OSError):
        shutil.rmtree(tmp)


def _check_space(repo: OutboxRepository, stick: Path) -> None:
    need = repo.unacked_bytes() + HEADROOM_BYTES
    free = shutil.disk_usage(stick).free
    if free < need:
        raise StickError(f"the USB stick is full: {need} bytes needed, {free} free", "full")
