"""One shared PostgreSQL session for the portal's small readers and counters: autocommit, the
schema migrated at open, reopened when the server dropped it (restart, fail-over), one statement
at a time across threads."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

import psycopg

from portal.ingest.migrate import migrate

Params = Sequence[Any] | Mapping[str, Any]


class PgSession:
    """An autocommit connection to ``dsn`` (psycopg), migrated; a statement on a session the
    server dropped raises once (that caller's work is not done), the next opens a new one."""

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._conn = psycopg.connect(dsn, autocommit=True)
        migrate(self._conn)
        self._lock = threading.Lock()

    def _run(self, sql: str, params: Params) -> psycopg.Cursor[Any]:
        if self._conn.closed or self._conn.broken:
            self._conn = psycopg.connect(self._dsn, autocommit=True)
        return self._conn.execute(sql, params)

    def rows(self, sql: str, params: Params) -> list[tuple[Any, ...]]:
        """Every row the statement returns."""
        with self._lock:
            return self._run(sql, params).fetchall()

    def count(self, sql: str, params: Params) -> int:
        """How many rows the statement changed."""
        with self._lock:
            return int(self._run(sql, params).rowcount)

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()
