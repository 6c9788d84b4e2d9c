"""Durable file writes: in full and fsynced, atomic replacement that leaves no temporary file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from kiosk.store.files import fsync_dir, replace_file, write_synced


def test_a_new_file_is_written_in_full(tmp_path: Path) -> None:
    data = os.urandom(3 * 2**20)  # larger than one write() may take at once
    write_synced(tmp_path / "f", data)
    assert (tmp_path / "f").read_bytes() == data


def test_exclusive_refuses_an_existing_file(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"old")
    with pytest.raises(FileExistsError):
        write_synced(tmp_path / "f", b"new")
    write_synced(tmp_path / "f", b"new", exclusive=False)
    assert (tmp_path / "f").read_bytes() == b"new"


def test_exact_mode_ignores_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o077)
    try:
        write_synced(tmp_path / "masked", b"x", mode=0o644)
        write_synced(tmp_path / "exact", b"x", mode=0o644, exact_mode=True)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "masked").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "exact").stat().st_mode) == 0o644


def test_replace_swaps_the_content_and_leaves_no_temporary(tmp_path: Path) -> None:
    target, tmp = tmp_path / "state.toml", tmp_path / "state.toml.tmp"
    target.write_bytes(b"old")
    tmp.write_bytes(b"stale from a power cut")
    replace_file(target, b"new", tmp=tmp)
    assert target.read_bytes() == b"new" and not tmp.exists()


def test_a_failed_replace_keeps_the_old_file_and_removes_the_temporary(tmp_path: Path) -> None:
    target = tmp_path / "state.toml"
    target.write_bytes(b"old")
    tmp = tmp_path / "state.toml.tmp"
    with pytest.raises(OSError):
        replace_file(
            tmp_path / "missing-folder" / "x", b"new", tmp=tmp_path / "missing-folder" / "t"
        )
    (tmp_path / "blocker").mkdir()  # a folder where the file should go: the rename fails
    with pytest.raises(OSError):
        replace_file(tmp_path / "blocker", b"new", tmp=tmp)
    assert target.read_bytes() == b"old" and not tmp.exists()


def test_fsync_dir_is_best_effort(tmp_path: Path) -> None:
    fsync_dir(tmp_path)
    fsync_dir(tmp_path / "absent")  # no error: a stick's file system may refuse
