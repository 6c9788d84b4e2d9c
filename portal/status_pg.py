"""The status book on PostgreSQL, shared by every ingest worker (migration 0003).

Registrations are read from the ingest workers' ``record`` table, so every registration the
portal holds can be looked up, from whichever kiosk and whenever it arrived, with nothing extra
written per record: the receipt code picks a few rows by index, the NIK digest
(:func:`kiosk.core.portal_status.nik_digest`, computed here by PostgreSQL's ``sha256``) is
compared on those rows only. Decisions and objection states live in ``registration_decision``
and ``objection_state``; each decision also queues its ``status`` message to the kiosk
(``status_push``, sent by the workers: :mod:`portal.status_push`). Workers check objections in
parallel: a transaction-scoped advisory lock per registration makes "one open objection per
decision" hold across them.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import astuple
from typing import Any

import psycopg

from kiosk.core.portal_status import FINAL_OBJECTION_STATES, NIK_DIGEST_DOMAIN
from portal import status_push
from portal.ingest.migrate import migrate
from portal.status_book import (
    MAX_ROWS,
    OBJECTION_FIELDS,
    REGISTRATION_FIELDS,
    Decision,
    Found,
    ObjectionRow,
    entry,
)

# spelled exactly as the indexes of migration 0003
_RECEIPT = "(record ->> 'receipt_no')"
_REG_ID = "COALESCE(record #>> '{registration,id}', record_id)"
_DIGEST = "encode(sha256(convert_to(%(domain)s || (record ->> 'nik'), 'UTF8')), 'hex')"
_VERSION = (
    "CASE WHEN jsonb_typeof(record #> '{registration,version}') = 'number'"
    " THEN LEAST(GREATEST((record #> '{registration,version}')::numeric, 1), 2147483647)::int"
    " ELSE 1 END"
)
_VERSIONS = f"""
SELECT {_REG_ID} AS rid, record_id, {_VERSION} AS version, {_RECEIPT},
       r.outcome, COALESCE(d.status, 'received'), d.reason, r.received_at, d.decided_at
FROM record r
LEFT JOIN registration_decision d USING (device_id, record_id)
WHERE r.kind = 'registration' AND jsonb_typeof(r.record -> 'nik') = 'string'
"""
_LOOKUP = f"""
WITH hit AS (
  SELECT DISTINCT {_REG_ID} AS rid FROM record
  WHERE kind = 'registration' AND {_RECEIPT} = %(receipt)s
    AND jsonb_typeof(record -> 'nik') = 'string' AND {_DIGEST} = %(digest)s
)
{_VERSIONS}
  AND {_REG_ID} IN (SELECT rid FROM hit) AND {_DIGEST} = %(digest)s
ORDER BY r.received_at DESC, version DESC LIMIT %(limit)s
"""
_LATEST = f"""{_VERSIONS}
  AND {_REG_ID} = %(rid)s AND {_DIGEST} = %(digest)s
ORDER BY version DESC, r.received_at DESC LIMIT 1
"""
_OBJECTIONS_OF = """
SELECT objection_id, registration_id, reason_code, state, state_reason, filed_at, state_at
FROM objection_state WHERE registration_id = ANY(%(ids)s) AND nik_digest = %(digest)s
ORDER BY filed_at DESC LIMIT %(limit)s
"""
_DECIDE = """
INSERT INTO registration_decision (device_id, record_id, status, reason, decided_at)
SELECT device_id, record_id, %s, %s, %s FROM record
WHERE device_id = %s AND record_id = %s AND kind = 'registration'
ON CONFLICT (device_id, record_id) DO UPDATE SET status = EXCLUDED.status,
    reason = EXCLUDED.reason, decided_at = EXCLUDED.decided_at
"""
_FINAL = sorted(FINAL_OBJECTION_STATES)


class PostgresStatusBook:
    """One connection (autocommit outside :meth:`batch`), reopened after a server restart."""

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._conn = psycopg.connect(dsn, autocommit=True)
        migrate(self._conn)
        self._lock = threading.RLock()  # batch() holds it across its transaction
        self._in_batch = False

    def _c(self) -> psycopg.Connection[Any]:
        if not self._in_batch and (self._conn.closed or self._conn.broken):
            self._conn = psycopg.connect(self._dsn, autocommit=True)
        return self._conn

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """One transaction (nested calls join it)."""
        with self._lock:
            if self._in_batch:
                yield
                return
            conn = self._c()
            with conn.transaction():
                self._in_batch = True
                try:
                    yield
                finally:
                    self._in_batch = False

    def index(self, device_id: str, record_id: str, record: dict[str, Any], at: float) -> None:
        """Nothing to write: registrations are read from ``record``."""

    def latest_decision(self, registration_id: str, digest: str) -> tuple[str, float | None] | None:
        """(status, decided at) of the newest version with this NIK digest."""
        with self._lock:
            row = (
                self._c()
                .execute(
                    _LATEST, {"rid": registration_id, "digest": digest, "domain": NIK_DIGEST_DOMAIN}
                )
                .fetchone()
            )
        return None if row is None else (str(row[5]), None if row[8] is None else float(row[8]))

    def open_objection(self, registration_id: str, objection_id: str) -> bool:
        """Another open objection? Takes the registration's advisory lock (held to commit)."""
        with self._lock:
            c = self._c()
            if self._in_batch:
                c.execute(
                    "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (registration_id,)
                )
            row = c.execute(
                "SELECT 1 FROM objection_state WHERE registration_id = %s AND objection_id <> %s"
                " AND state <> ALL(%s) LIMIT 1",
                (registration_id, objection_id, _FINAL),
            ).fetchone()
        return row is not None

    def keep_objection(self, row: ObjectionRow) -> None:
        """Insert once (the same objection redelivered changes nothing)."""
        with self._lock:
            self._c().execute(
                "INSERT INTO objection_state (device_id, objection_id, registration_id,"
                " nik_digest, reason_code, filed_at, filed_by, has_note, has_evidence, state,"
                " state_reason, state_at) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)"
                " ON CONFLICT (device_id, objection_id) DO NOTHING",
                astuple(row),  # the columns in field order
            )

    def decided(self, device_id: str, record_id: str, decision: Decision, at: float) -> bool:
        """Upsert the decision on a held registration version and queue its push to the
        kiosk, in one transaction (portal.status_push)."""
        with self._lock:
            c = self._c()
            with c.transaction():
                held = c.execute(_DECIDE, (*astuple(decision), device_id, record_id)).rowcount
                if held == 1:
                    status_push.queue(c, device_id, record_id, decision.status, decision.reason, at)
        return held == 1

    def move_objection(self, objection_id: str, state: str, reason: str | None, at: float) -> bool:
        """Set the state unless final."""
        with self._lock:
            cur = self._c().execute(
                "UPDATE objection_state SET state = %s, state_reason = %s, state_at = %s"
                " WHERE objection_id = %s AND state <> ALL(%s)",
                (state, reason, at, objection_id, _FINAL),
            )
        return cur.rowcount == 1

    def objections(self) -> list[tuple[Any, ...]]:
        """Every objection, newest first."""
        with self._lock:
            return list(
                self._c().execute(
                    "SELECT objection_id, device_id, registration_id, reason_code, filed_at,"
                    " filed_by, has_note::int, has_evidence::int, state, state_reason"
                    " FROM objection_state ORDER BY filed_at DESC"
                )
            )

    def objection_state(self, objection_id: str) -> tuple[str, str | None] | None:
        """(state, reason), or None."""
        with self._lock:
            row = (
                self._c()
                .execute(
                    "SELECT state, state_reason FROM objection_state WHERE objection_id = %s",
                    (objection_id,),
                )
                .fetchone()
            )
        return None if row is None else (str(row[0]), row[1])

    def lookup(self, digest: str, receipt: str) -> Found:
        """Versions (from ``record``) and objections for this digest + code."""
        args = {
            "digest": digest,
            "receipt": receipt,
            "domain": NIK_DIGEST_DOMAIN,
            "limit": MAX_ROWS,
        }
        with self._lock:
            c = self._c()
            rows = c.execute(_LOOKUP, args).fetchall()
            if not rows:
                return [], []
            ids = sorted({r[0] for r in rows})
            objs = c.execute(_OBJECTIONS_OF, {**args, "ids": ids}).fetchall()
        return [entry(REGISTRATION_FIELDS, r) for r in rows], [
            entry(OBJECTION_FIELDS, o) for o in objs
        ]

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()
