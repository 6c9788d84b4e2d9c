"""Repository over the ``help_request`` table: who asked for an agent, and who answered."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from kiosk.errors import StoreError


@dataclass(frozen=True)
class HelpRequest:
    """Someone asked for an agent."""

    request_id: str
    source: str
    created_at: float  # wall seconds
    state: str
    taken_by: str | None


class HelpRepository:
    """SQL for help requests; writes go into the caller's open transaction."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def add(self, tx: sqlite3.Connection, request: HelpRequest) -> None:
        """Store a new open request."""
        tx.execute(
            "INSERT INTO help_request (request_id, source, created_at) VALUES (?,?,?)",
            (request.request_id, request.source, request.created_at),
        )

    def open_requests(self) -> list[HelpRequest]:
        """Open requests, oldest first."""
        try:
            rows = self._conn.execute(
                "SELECT request_id, source, created_at, state, taken_by FROM help_request"
                " WHERE state = 'open' ORDER BY created_at"
            ).fetchall()
        except sqlite3.Error as err:
            raise StoreError(f"cannot read help requests: {err}") from err
        return [HelpRequest(*r) for r in rows]

    def close(
        self, tx: sqlite3.Connection, request_id: str, state: str, agent_id: str | None, at: float
    ) -> bool:
        """Open -> ``state`` (taken | cancelled) at wall seconds ``at``; False if not open."""
        cur = tx.execute(
            "UPDATE help_request SET state = ?, taken_by = ?, closed_at = ?"
            " WHERE request_id = ? AND state = 'open'",
            (state, agent_id, at, request_id),
        )
        return cur.rowcount == 1
