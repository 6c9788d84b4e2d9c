"""Atomic file writes (temporary file, fsync, rename) and key shredding (overwrite, unlink)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from kiosk.errors import ProvisioningError
from kiosk.store.files import replace_file


def write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` via ``<path>.tmp`` + fsync + rename, with permission ``mode``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        replace_file(path, data, tmp=tmp, mode=mode, exact_mode=True)
    except OSError as err:
        raise ProvisioningError(
            f"cannot write {path}: {err.strerror}; check that the data partition is mounted "
            "read-write and not full"
        ) from err


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
        fd = os.open(path, os.O_WRONLY)  # in place: no truncation, the same blocks are rewritten
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
