"""The audit log table: append-only (triggers refuse UPDATE and DELETE), hash-chained."""

from __future__ import annotations

import os
import sqlite3
from typing import Any

from kiosk.core.audit import AuditEntry, ChainReport, next_entry, verify
from kiosk.core.clock import Clock
from kiosk.core.ids import uuid7
from kiosk.services.ports import Sealer
from kiosk.store.db import transaction
from kiosk.store.outbox import OutboxRepository
from kiosk.uplink.topics import Name

_COLUMNS = "seq, at, kind, actor, subject, prev_hash, hash"


class AuditLog:
    """Append entries, read them back, verify the chain, and batch them into the outbox."""

    def __init__(
        self, conn: sqlite3.Connection, clock: Clock, outbox: OutboxRepository | None = None
    ) -> None:
        self._conn = conn
        self._clock = clock
        self._outbox = outbox or OutboxRepository(conn)

    def append(
        self, c: sqlite3.Connection, kind: str, actor: str | None = None, subject: str | None = None
    ) -> AuditEntry:
        """Add an entry inside the caller's open transaction on ``c``."""
        row = c.execute(f"SELECT {_COLUMNS} FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
        prev = AuditEntry(*row) if row else None
        entry = next_entry(prev, self._clock.now(), kind, actor, subject)
        c.execute(
            f"INSERT INTO audit_log ({_COLUMNS}) VALUES (?,?,?,?,?,?,?)",
            (
                entry.seq,
                entry.at,
                entry.kind,
                entry.actor,
                entry.subject,
                entry.prev_hash,
                entry.hash,
            ),
        )
        return entry

    def record(self, kind: str, actor: str | None = None, subject: str | None = None) -> AuditEntry:
        """Add an entry in its own transaction."""
        with transaction(self._conn) as c:
            return self.append(c, kind, actor, subject)

    def entries(self, after_seq: int = 0) -> list[AuditEntry]:
        """Entries with ``seq > after_seq``, oldest first."""
        rows = self._conn.execute(
            f"SELECT {_COLUMNS} FROM audit_log WHERE seq > ? ORDER BY seq", (after_seq,)
        ).fetchall()
        return [AuditEntry(*r) for r in rows]

    def anchors(self) -> list[tuple[int, str]]:
        """(seq, hash) of every head already queued for the portal."""
        rows = self._conn.execute("SELECT to_seq, head_hash FROM audit_upload ORDER BY to_seq")
        return [(int(s), str(h)) for s, h in rows.fetchall()]

    def verify_chain(self) -> ChainReport:
        """Verify the whole chain, including that it still reaches every uploaded head."""
        rows = self._conn.execute(f"SELECT {_COLUMNS} FROM audit_log ORDER BY seq")
        return verify((AuditEntry(*r) for r in rows), self.anchors())

    def flush(self, sealer: Sealer, device_id: str) -> str | None:
        """Seal the entries not yet queued into one outbox row (kind ``audit``); its id or None."""
        with transaction(self._conn) as c:
            row = c.execute("SELECT COALESCE(MAX(to_seq), 0) FROM audit_upload").fetchone()
            done = int(row[0])
            rows = c.execute(
                f"SELECT {_COLUMNS} FROM audit_log WHERE seq > ? ORDER BY seq", (done,)
            ).fetchall()
            if not rows:
                return None
            entries = [AuditEntry(*r) for r in rows]
            now = self._clock.now()
            batch_id = uuid7(now, os.urandom(10))
            record: dict[str, Any] = {
                "batch_id": batch_id,
                "device_id": device_id,
                "from_seq": entries[0].seq,
                "to_seq": entries[-1].seq,
                "head_hash": entries[-1].hash,
                "entries": [
                    [e.seq, e.at, e.kind, e.actor, e.subject, e.prev_hash, e.hash] for e in entries
                ],
            }
            payload = sealer.seal(Name.AUDIT, batch_id, record)
            self._outbox.enqueue(batch_id, Name.AUDIT, payload, now, tx=c)
            c.execute(
                "INSERT INTO audit_upload (batch_id, from_seq, to_seq, head_hash, created_at)"
                " VALUES (?,?,?,?,?)",
                (batch_id, entries[0].seq, entries[-1].seq, entries[-1].hash, now),
            )
            return batch_id
