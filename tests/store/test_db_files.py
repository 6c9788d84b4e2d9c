"""The kiosk database files are private to the kiosk user (0600), whatever the umask."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from kiosk.store.db import DB_NAME, connect


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def test_database_wal_and_shm_are_created_0600(tmp_path: Path) -> None:
    old = os.umask(0o022)  # the usual default: files would be 0644
    try:
        conn = connect(tmp_path / DB_NAME)
        conn.execute("CREATE TABLE t (x)")
        conn.execute("INSERT INTO t VALUES (1)")
        files = [tmp_path / DB_NAME, tmp_path / f"{DB_NAME}-wal", tmp_path / f"{DB_NAME}-shm"]
        assert all(f.exists() for f in files)
        assert [_mode(f) for f in files] == [0o600] * 3
        conn.close()
    finally:
        os.umask(old)


def test_an_existing_world_readable_database_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / DB_NAME
    connect(path).close()
    path.chmod(0o644)
    connect(path).close()
    assert _mode(path) == 0o600
