"""Persistent login throttle state, one row per agent id (and one for unknown ids)."""

from __future__ import annotations

import sqlite3

from kiosk.core.throttle import ThrottleState
from kiosk.store.db import transaction

UNKNOWN_KEY = "?"
"""Throttle key shared by every id that is not an enrolled agent."""


class ThrottleRepository:
    """SQL for the ``agent_throttle`` table."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def get(self, key: str) -> ThrottleState:
        """The state for ``key`` (a fresh one when none is stored)."""
        row = self._conn.execute(
            "SELECT failures, last_failure_at FROM agent_throttle WHERE key = ?", (key,)
        ).fetchone()
        return ThrottleState(int(row[0]), float(row[1])) if row else ThrottleState()

    def put(self, key: str, state: ThrottleState) -> None:
        """Store ``state`` for ``key`` (a zero state deletes the row)."""
        with transaction(self._conn) as c:
            if state.failures == 0:
                c.execute("DELETE FROM agent_throttle WHERE key = ?", (key,))
            else:
                c.execute(
                    "INSERT INTO agent_throttle (key, failures, last_failure_at) VALUES (?,?,?)"
                    " ON CONFLICT(key) DO UPDATE SET failures = excluded.failures,"
                    " last_failure_at = excluded.last_failure_at",
                    (key, state.failures, state.last_failure_at),
                )
