"""The PostgreSQL backend: one transaction per batch, set-based statements, migrations at open."""

from __future__ import annotations

import threading
from typing import Any

import psycopg

from portal.ingest.migrate import migrate
from portal.ingest.store import Batch
from portal.store import correct_time

_UPSERT_BEATS = """
INSERT INTO heartbeat (device_id, message, received_at)
SELECT d, m::jsonb, t FROM unnest(%s::text[], %s::text[], %s::float8[]) AS u(d, m, t)
ON CONFLICT (device_id) DO UPDATE SET message = EXCLUDED.message,
    received_at = EXCLUDED.received_at
WHERE heartbeat.received_at <= EXCLUDED.received_at
"""
_UPSERT_AVAILABILITY = """
INSERT INTO availability (device_id, state, at)
SELECT * FROM unnest(%s::text[], %s::text[], %s::float8[])
ON CONFLICT (device_id) DO UPDATE SET state = EXCLUDED.state, at = EXCLUDED.at
WHERE availability.at <= EXCLUDED.at
"""
_REJECT = """
INSERT INTO rejection (device_id, record_id, reason, at)
SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::float8[])
"""
_BEATS_OF = (
    "SELECT device_id, message->'clock', received_at FROM heartbeat WHERE device_id = ANY(%s)"
)
_INSERT_RECORDS = """
INSERT INTO record (device_id, record_id, kind, record, received_at, created_at)
SELECT d, r, k, j::jsonb, %b, c
FROM unnest(%b::text[], %b::text[], %b::text[], %b::text[], %b::float8[]) AS u(d, r, k, j, c)
ON CONFLICT (device_id, record_id) DO NOTHING
RETURNING device_id, record_id
"""


class PostgresIngestStore:
    """One connection per worker; every batch is one transaction of a few set-based statements."""

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._conn = psycopg.connect(dsn, autocommit=True)
        migrate(self._conn)
        self._lock = threading.Lock()

    def write(self, batch: Batch) -> list[bool]:
        """Refusals, heartbeats, availability and records in ONE transaction (one fsync)."""
        with self._lock:
            if self._conn.closed or self._conn.broken:  # the server restarted: a new session
                self._conn = psycopg.connect(self._dsn, autocommit=True)
            with self._conn.transaction():
                return self._write(batch)

    def _write(self, batch: Batch) -> list[bool]:
        c = self._conn
        if batch.rejections:
            c.execute(_REJECT, [list(col) for col in zip(*batch.rejections, strict=True)])
        if batch.heartbeats:
            beats = batch.heartbeats
            c.execute(
                _UPSERT_BEATS,
                (list(beats), [b.text for b in beats.values()], [b.at for b in beats.values()]),
            )
        if batch.availability:
            av = batch.availability
            c.execute(
                _UPSERT_AVAILABILITY,
                (list(av), [s for s, _ in av.values()], [t for _, t in av.values()]),
            )
        if not batch.records:
            return []
        return self._insert(batch)

    def _insert(self, batch: Batch) -> list[bool]:
        need_beat = {
            r.device_id for r in batch.records if not (_clock(r.record) or {}).get("synced", True)
        }
        beats: dict[str, tuple[dict[str, Any], float]] = {}
        if need_beat:
            for device_id, clock, at in self._conn.execute(_BEATS_OF, (list(need_beat),)):
                beats[device_id] = ({"clock": clock}, float(at))
        created: list[float | None] = []
        for r in batch.records:
            clock = _clock(r.record)
            if clock is None or "wall" not in clock:
                created.append(None)
                continue
            beat, at = beats.get(r.device_id, (None, 0.0))
            created.append(correct_time(clock, beat, at))
        rows = self._conn.execute(  # %b: binary arrays, no per-element text escaping
            _INSERT_RECORDS,
            (
                batch.now,
                [r.device_id for r in batch.records],
                [r.record_id for r in batch.records],
                [r.kind for r in batch.records],
                batch.texts,
                created,
            ),
        ).fetchall()
        new = {(d, r) for d, r in rows}
        out: list[bool] = []
        for r in batch.records:  # the same record twice in one batch: only the first is new
            key = (r.device_id, r.record_id)
            out.append(key in new)
            new.discard(key)
        return out

    def held(self, keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which of these (device id, record id) are stored (one query)."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT device_id, record_id FROM record WHERE (device_id, record_id) IN"
                " (SELECT * FROM unnest(%s::text[], %s::text[]))",
                ([d for d, _r in keys], [r for _d, r in keys]),
            )
            return {(d, r) for d, r in rows}

    def record_ids(self, device_id: str | None = None) -> list[str]:
        """Stored record ids (optionally of one device), in arrival order."""
        with self._lock:
            if device_id is None:
                cur = self._conn.execute("SELECT record_id FROM record ORDER BY received_at")
            else:
                cur = self._conn.execute(
                    "SELECT record_id FROM record WHERE device_id = %s ORDER BY received_at",
                    (device_id,),
                )
            return [r[0] for r in cur]

    def rejections(self) -> list[tuple[str, str | None, str]]:
        """(device_id, record_id, reason) of every refusal."""
        with self._lock:
            cur = self._conn.execute(
                "SELECT device_id, record_id, reason FROM rejection ORDER BY id"
            )
            return [(r[0], r[1], r[2]) for r in cur]

    def latest_heartbeat(self, device_id: str) -> dict[str, Any] | None:
        """The last heartbeat of a device."""
        with self._lock:
            row = self._conn.execute(
                "SELECT message FROM heartbeat WHERE device_id = %s", (device_id,)
            ).fetchone()
        return None if row is None else dict(row[0])

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()


def _clock(record: dict[str, Any]) -> dict[str, Any] | None:
    clock = record.get("clock")
    return clock if isinstance(clock, dict) else None
