"""Durable file writes: every byte written and fsynced, atomic replacement, a folder's fsync.

One way to put a file on disk so that a power cut leaves either the old or the new content:
write a temporary file in full, fsync it, rename it over the target, fsync the folder. Used by
the USB export, provisioning, the key files and the data directory's start-up probe.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def write_synced(
    path: Path, data: bytes, *, mode: int = 0o600, exclusive: bool = True, exact_mode: bool = False
) -> None:
    """Write ``data`` to ``path`` in full and fsync it; a new file unless not ``exclusive``.

    ``mode`` is the new file's permission (less the umask, unless ``exact_mode``)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    fd = os.open(path, flags, mode)
    try:
        if exact_mode:
            os.fchmod(fd, mode)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(directory: Path) -> None:
    """Make renames in ``directory`` durable (best effort: some file systems refuse)."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def replace_file(
    path: Path, data: bytes, *, tmp: Path, mode: int = 0o600, exact_mode: bool = False
) -> None:
    """Put ``data`` at ``path`` atomically through ``tmp`` (removed again if anything fails)."""
    try:
        write_synced(tmp, data, mode=mode, exclusive=False, exact_mode=exact_mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    fsync_dir(path.parent)
