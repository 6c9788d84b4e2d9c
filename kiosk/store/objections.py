"""Objections and their outbox rows, written together in one transaction."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from kiosk.core.names import Name
from kiosk.services.ports import NewObjection, ObjectionStatus
from kiosk.store.db import transaction
from kiosk.store.outbox import OutboxRepository

KIND = Name.OBJECTION
"""Outbox kind (and UP topic) of an objection record."""


_COLUMNS = (
    "SELECT j.objection_id, j.registration_id, j.reason_code, j.filed_at, j.filed_by,"
    " CASE WHEN j.state = 'waiting' AND o.state = 'acked' THEN 'received' ELSE j.state END,"
    " j.state_reason, j.state_at, o.state FROM objection j"
    " LEFT JOIN outbox o ON o.record_id = j.objection_id"
)


class ObjectionRepository:
    """SQL for the ``objection`` table; its outbox row goes in through ``outbox``."""

    def __init__(self, conn: sqlite3.Connection, outbox: OutboxRepository | None = None) -> None:
        self._conn = conn
        self._outbox = outbox or OutboxRepository(conn)

    def commit(
        self,
        new: NewObjection,
        payload: bytes,
        also: Callable[[Any], object] | None = None,
    ) -> None:
        """Insert the objection and its sealed outbox row atomically (both or neither), with
        ``also`` (e.g. the agent's audit entry) in the same transaction."""
        with transaction(self._conn) as c:
            c.execute(
                "INSERT INTO objection (objection_id, registration_id, record_id, nik_hmac,"
                " reason_code, has_note, has_evidence, filed_at, filed_by, agent_id, session_key)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    new.objection_id,
                    new.registration_id,
                    new.record_id,
                    new.nik_hmac,
                    new.reason_code,
                    int(new.has_note),
                    int(new.has_evidence),
                    new.filed_at,
                    new.filed_by,
                    new.agent_id,
                    new.session_key,
                ),
            )
            self._outbox.enqueue(new.objection_id, KIND, payload, new.filed_at, tx=c)
            if also is not None:
                also(c)

    def for_registration(self, registration_id: str) -> list[ObjectionStatus]:
        """Objections to one registration, newest first."""
        rows = self._conn.execute(
            _COLUMNS + " WHERE j.registration_id = ? ORDER BY j.filed_at DESC",
            (registration_id,),
        ).fetchall()
        return [ObjectionStatus(*r) for r in rows]

    def by_session_key(self, session_key: str) -> str | None:
        """The objection id committed by the filing session with this key, or None."""
        row = self._conn.execute(
            "SELECT objection_id FROM objection WHERE session_key = ?", (session_key,)
        ).fetchone()
        return str(row[0]) if row else None

    def set_state(
        self, objection_id: str, state: str, reason: str | None, at: float | None
    ) -> bool:
        """Remember the portal's state of an objection (from a signed status answer)."""
        with transaction(self._conn) as c:
            cur = c.execute(
                "UPDATE objection SET state = ?, state_reason = ?, state_at = ?"
                " WHERE objection_id = ?",
                (state, reason, at, objection_id),
            )
        return cur.rowcount == 1
