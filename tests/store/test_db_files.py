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


def test_two_connections_migrating_at_once_apply_each_migration_once(tmp_path: Path) -> None:
    """Two processes opening a fresh database: the second waits for the first's migration
    and must not run it again ("table ... already exists")."""
    import sqlite3

    from kiosk.store import db as db_mod

    path = tmp_path / "k.sqlite3"
    first = sqlite3.connect(path, isolation_level=None)
    second = sqlite3.connect(path, isolation_level=None)
    db_mod.migrate(first)
    # the race: the second read version 5 before the first committed 0006, then got the lock
    stale = 5
    original = second.execute
    calls: list[str] = []

    class Stale:
        def __getattr__(self, name: str) -> object:
            return getattr(second, name)

        def execute(self, sql: str, *args: object) -> object:
            calls.append(sql)
            if sql == "PRAGMA user_version" and len(calls) == 1:
                return original(f"SELECT {stale}")
            return original(sql, *args)

    assert db_mod.migrate(Stale()) == len(db_mod._migrations())  # type: ignore[arg-type]
    tables = [r[0] for r in first.execute("SELECT name FROM sqlite_master WHERE name='objection'")]
    assert tables == ["objection"]


def test_a_second_connection_keeps_the_process_s_locks_so_no_commit_is_lost(
    tmp_path: Path,
) -> None:
    """POSIX locks belong to the process: closing ANY descriptor of the database file drops
    all of them. Opening a second connection must not do that (it once did, to set the file
    mode), or another process closing its connection finds no lock, takes itself for the last
    one, checkpoints and deletes the WAL under the live writer, and the writer's next commits
    go to a deleted file: a confirmed registration lost (test_kiosk_sigkilled_50_times)."""
    import subprocess
    import sys

    path = tmp_path / DB_NAME
    writer = connect(path)
    writer.execute("CREATE TABLE t (x)")
    writer.execute("INSERT INTO t VALUES (1)")
    reader = connect(path)  # the uplink, the USB job...: a second connection in this process

    def other_process(code: str) -> str:
        run = subprocess.run(
            [
                sys.executable,
                "-c",
                f"from pathlib import Path; from kiosk.store.db import connect;"
                f" c = connect(Path({str(path)!r})); {code}",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            cwd=Path(__file__).resolve().parents[2],
        )
        assert run.returncode == 0, run.stderr
        return run.stdout.strip()

    other_process("c.execute('SELECT count(*) FROM t').fetchone(); c.close()")  # e.g. a CLI
    writer.execute("INSERT INTO t VALUES (2)")  # committed (autocommit)
    assert other_process("print(c.execute('SELECT count(*) FROM t').fetchone()[0])") == "2"
    reader.close()
    writer.close()
