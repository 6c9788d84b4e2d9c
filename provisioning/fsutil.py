"""Atomic file writes (temporary file, fsync, rename) and key shredding (overwrite, unlink)."""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

from kiosk.errors import ProvisioningError


def fsync_dir(directory: Path) -> None:
    """Make a rename in ``directory`` durable (best effort on file systems that refuse)."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` via ``<path>.tmp`` + fsync + rename, with permission ``mode``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        try:
            os.fchmod(fd, mode)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError as err:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise ProvisioningError(
            f"cannot write {path}: {err.strerror}; check that the data partition is mounted "
            "read-write and not full"
        ) from err
    fsync_dir(path.parent)


def write_text_atomic(path: Path, text: str, mode: int = 0o644) -> None:
    """UTF-8 text version of :func:`write_atomic`."""
    write_atomic(path, text.encode("utf-8"), mode)


def shred(path: Path) -> bool:
    """Overwrite a file with random bytes (fsynced), then unlink it; False if it was absent.

    On flash storage an overwrite is not a guarantee; what makes the data unreadable is that
    every copy of the key is gone (crypto-shredding), so keys are small files kept in one place.
    """
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return False
    try:
        fd = os.open(path, os.O_WRONLY)
        try:
            os.write(fd, os.urandom(max(size, 1)))
            os.fsync(fd)
        finally:
            os.close(fd)
        path.unlink()
    except OSError as err:
        raise ProvisioningError(f"cannot destroy {path}: {err.strerror}") from err
    return True


def remove_tree(path: Path) -> None:
    """Remove a directory tree if it exists."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()
