"""Open the kiosk database: WAL, synchronous=FULL, foreign keys, migrations applied."""

from __future__ import annotations

import importlib.resources
import logging
import os
import re
import shutil
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from kiosk.errors import MigrationError, StorageFullError, StoreError

log = logging.getLogger(__name__)

DB_NAME = "kiosk.sqlite3"
MIN_FREE_BYTES = 50 * 1024 * 1024
"""Refuse new registrations below this much free space on the data partition (bytes)."""

_MIGRATION = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def _migrations() -> list[tuple[int, str, str]]:
    """All migrations shipped in ``kiosk.store.migrations`` as (version, name, sql), in order."""
    found = []
    for entry in importlib.resources.files("kiosk.store.migrations").iterdir():
        m = _MIGRATION.match(entry.name)
        if m:
            found.append((int(m.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [v for v, _, _ in found]
    if versions != list(range(1, len(found) + 1)):
        raise MigrationError(f"migration files are not numbered 0001.. without gaps: {versions}")
    return found


class KioskConnection(sqlite3.Connection):
    """A connection that carries a lock, so threads sharing it never interleave transactions."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.lock = threading.RLock()


PRIVATE_MODE = 0o600
"""The database and its -wal/-shm hold personal data: owner read/write only."""


def _make_private(path: Path) -> None:
    """Create ``path`` 0600 if missing (SQLite gives -wal/-shm the database file's mode) and
    tighten an existing database, -wal or -shm that is readable by others."""
    # Never open (and close) an EXISTING database file here: POSIX locks belong to the
    # process, and closing any descriptor of the file drops every lock this process's
    # connections hold on it; another process closing its connection would then take itself
    # for the last one and delete the WAL under a live writer (committed records lost).
    if not path.exists():
        try:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_MODE))
        except FileExistsError:
            pass  # another process created it meanwhile: nothing was opened
        except OSError:
            return  # e.g. read-only media: sqlite3 reports the real problem
    for f in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            if f.stat().st_mode & 0o077:
                f.chmod(PRIVATE_MODE)
        except OSError:
            continue


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating if needed, mode 0600) the database at ``path``; bring its schema up to
    date."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _make_private(path)
    try:
        conn = sqlite3.connect(
            path,
            isolation_level=None,
            timeout=10.0,
            check_same_thread=False,
            factory=KioskConnection,
        )
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=10000")
    except sqlite3.DatabaseError as err:
        raise StoreError(f"cannot open database {path}: {err}") from err
    migrate(conn)
    return conn


def migrate(conn: sqlite3.Connection) -> int:
    """Apply pending migrations, each in its own transaction; return the schema version."""
    current = conn.execute("PRAGMA user_version").fetchone()[0]
    shipped = _migrations()
    if current > len(shipped):
        raise MigrationError(
            f"database schema version {current} is newer than this software ({len(shipped)}): "
            "install the matching kiosk software version"
        )
    for version, name, sql in shipped[current:]:
        try:
            conn.execute("BEGIN IMMEDIATE")
            if conn.execute("PRAGMA user_version").fetchone()[0] >= version:
                conn.execute("COMMIT")  # another process applied it while we waited
                continue
            for statement in _statements(sql):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version={version}")
            conn.execute("COMMIT")
        except sqlite3.Error as err:
            conn.execute("ROLLBACK")
            raise MigrationError(f"migration {name} failed: {err}") from err
    return len(shipped)


def _statements(sql: str) -> Iterator[str]:
    """Split a migration script into statements (no semicolons inside our literals).

    Trigger bodies (``BEGIN ...; END``) stay whole: parts are joined until SQLite says the
    statement is complete.
    """
    lines = [ln for ln in sql.splitlines() if not ln.strip().startswith("--")]
    buf = ""
    for part in "\n".join(lines).split(";"):
        buf += part + ";"
        if sqlite3.complete_statement(buf):
            if buf.strip(" \t\n;"):
                yield buf
            buf = ""
    if buf.strip(" \t\n;"):
        yield buf


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``; rolls back on any exception and maps disk errors.

    On a :class:`KioskConnection` shared by several threads (the UI's request threads), the
    connection's lock makes each transaction exclusive, so one thread's statements never land
    inside another's transaction.
    """
    lock = getattr(conn, "lock", None)
    if lock is None:
        yield from _transaction(conn)
        return
    with lock:
        yield from _transaction(conn)


_AFTER_COMMIT: dict[int, list[Callable[[], None]]] = {}
"""Callbacks waiting for the open :func:`transaction` of a connection (by ``id``) to commit."""


def after_commit(conn: sqlite3.Connection, callback: Callable[[], None]) -> None:
    """Call ``callback`` once the :func:`transaction` open on ``conn`` has committed.

    Dropped if that transaction rolls back; called at once when none is open (autocommit: the
    statement is already durable). A callback that raises is logged, never the commit's error.
    """
    pending = _AFTER_COMMIT.get(id(conn))
    if pending is None:
        _run_hooks([callback])
    else:
        pending.append(callback)


def _run_hooks(callbacks: list[Callable[[], None]]) -> None:
    for callback in callbacks:
        try:
            callback()
        except Exception:  # the data is committed; a failed wake-up must not look like a loss
            log.exception("after-commit callback failed")


def _transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as err:
        raise _map(err) from err
    _AFTER_COMMIT[id(conn)] = []
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException as exc:
        _AFTER_COMMIT.pop(id(conn), None)
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        if isinstance(exc, sqlite3.Error):
            raise _map(exc) from exc
        raise
    _run_hooks(_AFTER_COMMIT.pop(id(conn), []))


def _map(err: sqlite3.Error) -> StoreError:
    text = str(err).lower()
    if "full" in text or getattr(err, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
        return StorageFullError("the data partition is full; nothing was saved")
    return StoreError(f"database error: {err}")


def ensure_free_space(directory: Path, minimum: int = MIN_FREE_BYTES) -> None:
    """Raise :class:`StorageFullError` when ``directory``'s file system has < ``minimum`` bytes."""
    free = shutil.disk_usage(directory).free
    if free < minimum:
        raise StorageFullError(
            f"only {free // 1024} KiB free on the data partition (need {minimum // 1024} KiB); "
            "new registrations are paused until space is freed"
        )
