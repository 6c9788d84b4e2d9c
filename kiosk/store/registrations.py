"""Registrations and their outbox rows, written together in one transaction."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence

from kiosk.core.tally import Count
from kiosk.services.ports import ExistingRegistration, NewRegistration, RegistrationStatus
from kiosk.store.db import transaction
from kiosk.store.outbox import OutboxRepository


def registrations_received(tx: sqlite3.Connection, record_ids: Sequence[str], now: float) -> None:
    """The ack effect of the ``registration`` kind: the portal holds these records.

    Each forgets its sealed face template and goes ``waiting -> received`` (at wall seconds
    ``now``); a status the portal already sent is kept. Runs in the ack's transaction ``tx``.
    """
    for i in range(0, len(record_ids), 500):
        part = list(record_ids[i : i + 500])
        marks = ",".join("?" * len(part))
        tx.execute(
            "UPDATE registration SET template_sealed = NULL,"
            " status_at = CASE WHEN status = 'waiting' THEN ? ELSE status_at END,"
            " status = CASE WHEN status = 'waiting' THEN 'received' ELSE status END"
            f" WHERE record_id IN ({marks})",
            (now, *part),
        )


_STATUS_COLUMNS = (
    "SELECT r.record_id, r.receipt_no, r.created_at, r.verification, r.status,"
    " r.status_reason, o.state, r.registration_id, r.version, r.status_at FROM registration r"
    " LEFT JOIN outbox o ON o.record_id = r.record_id"
)


__all__ = [
    "ExistingRegistration",
    "NewRegistration",
    "RegistrationRepository",
    "RegistrationStatus",
    "registrations_received",
]


class RegistrationRepository:
    """SQL for the ``registration`` table (the :class:`~kiosk.services.ports.RegistrationStore`
    port); its outbox row goes in through ``outbox``."""

    def __init__(self, conn: sqlite3.Connection, outbox: OutboxRepository | None = None) -> None:
        self._conn = conn
        self._outbox = outbox or OutboxRepository(conn)

    def commit(
        self, reg: NewRegistration, kind: str, payload: bytes, counts: Iterable[Count] = ()
    ) -> None:
        """Insert the registration and its sealed outbox row (with the meeting report's
        ``counts``) atomically: all or nothing."""
        with transaction(self._conn) as c:
            c.execute(
                "INSERT INTO registration (record_id, registration_id, version, session_key,"
                " consent_heard, receipt_no, nik_hmac, created_at,"
                " created_mono, boot_id, clock_synced, verification, form_id, form_version,"
                " consent_version, assisted_by, template_sealed, kk_hmac, members_count)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    reg.record_id,
                    reg.registration_id or reg.record_id,
                    reg.version,
                    reg.session_key,
                    reg.consent_heard,
                    reg.receipt_no,
                    reg.nik_hmac,
                    reg.created_at,
                    reg.created_mono,
                    reg.boot_id,
                    int(reg.clock_synced),
                    reg.verification,
                    reg.form_id,
                    reg.form_version,
                    reg.consent_version,
                    reg.assisted_by,
                    reg.template_sealed,
                    reg.kk_hmac,
                    reg.members_count,
                ),
            )
            self._outbox.enqueue(reg.record_id, kind, payload, reg.created_at, tx=c, counts=counts)

    def by_nik(self, nik_hmac: str) -> list[RegistrationStatus]:
        """Every version of a person's registrations, newest first."""
        return self._statuses(
            "r.nik_hmac = ? ORDER BY r.created_at DESC, r.version DESC", (nik_hmac,)
        )

    def by_receipt(self, nik_hmac: str, receipt_no: str) -> list[RegistrationStatus]:
        """The versions of the registration with this receipt code and NIK, newest first."""
        return self._statuses(
            "r.nik_hmac = ? AND r.receipt_no = ? ORDER BY r.version DESC", (nik_hmac, receipt_no)
        )

    def _statuses(self, where: str, params: tuple[str, ...]) -> list[RegistrationStatus]:
        rows = self._conn.execute(f"{_STATUS_COLUMNS} WHERE {where}", params).fetchall()
        return [RegistrationStatus(*row) for row in rows]

    def latest_for_nik(self, nik_hmac: str) -> ExistingRegistration | None:
        """The newest version of this NIK's registration on this kiosk, or None."""
        row = self._conn.execute(
            "SELECT registration_id, receipt_no, version, created_at, verification"
            " FROM registration WHERE nik_hmac = ? ORDER BY created_at DESC, version DESC"
            " LIMIT 1",
            (nik_hmac,),
        ).fetchone()
        return ExistingRegistration(*row) if row else None

    def latest_for_kk(self, kk_hmac: str) -> ExistingRegistration | None:
        """The newest registration version of this family card (keyed KK hash), or None."""
        row = self._conn.execute(
            "SELECT registration_id, receipt_no, version, created_at, verification,"
            " members_count, nik_hmac FROM registration WHERE kk_hmac = ?"
            " ORDER BY created_at DESC, version DESC LIMIT 1",
            (kk_hmac,),
        ).fetchone()
        return ExistingRegistration(*row) if row else None

    def next_version(self, registration_id: str) -> int:
        """The version number an update of ``registration_id`` gets."""
        row = self._conn.execute(
            "SELECT MAX(version) FROM registration WHERE registration_id = ?", (registration_id,)
        ).fetchone()
        return int(row[0] or 0) + 1

    def by_session_key(self, session_key: str) -> tuple[str, str] | None:
        """(record id, receipt code) committed by the session with this key, or None."""
        row = self._conn.execute(
            "SELECT record_id, receipt_no FROM registration WHERE session_key = ?",
            (session_key,),
        ).fetchone()
        return (str(row[0]), str(row[1])) if row else None

    def receipt_taken(self, receipt_no: str) -> bool:
        """True when another registration already has this receipt code."""
        row = self._conn.execute(
            "SELECT 1 FROM registration WHERE receipt_no = ? LIMIT 1", (receipt_no,)
        ).fetchone()
        return row is not None

    def delivery(self, record_id: str) -> str | None:
        """The outbox state of one record (pending | sent | acked | dead), None when unknown."""
        row = self._conn.execute(
            "SELECT state FROM outbox WHERE record_id = ?", (record_id,)
        ).fetchone()
        return str(row[0]) if row else None

    def set_status(self, record_id: str, status: str, reason: str | None, at: float) -> bool:
        """Record a status update from the portal; returns False for an unknown record."""
        with transaction(self._conn) as c:
            cur = c.execute(
                "UPDATE registration SET status = ?, status_reason = ?, status_at = ?"
                " WHERE record_id = ? AND (status IN ('waiting', 'received')"
                " OR status_at IS NULL OR status_at <= ?)",
                (status, reason, at, record_id, at),
            )
            if cur.rowcount == 1:
                return True
            # a late copy of an older decision (re-sent after a lost PUBACK) must not
            # replace a newer one; 'waiting'/'received' times are the kiosk's own, not the
            # portal's decision times, so any decision replaces them
            held = c.execute("SELECT 1 FROM registration WHERE record_id = ?", (record_id,))
            return held.fetchone() is not None

    def count(self) -> int:
        """Number of registrations stored."""
        return int(self._conn.execute("SELECT COUNT(*) FROM registration").fetchone()[0])
