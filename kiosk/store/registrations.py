"""Registrations and their outbox rows, written together in one transaction."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from kiosk.store.db import transaction


@dataclass(frozen=True)
class NewRegistration:
    """What the kiosk keeps locally about a registration it confirmed."""

    record_id: str
    receipt_no: str
    nik_hmac: str
    created_at: float
    created_mono: float
    boot_id: str
    clock_synced: bool
    verification: str
    form_id: str
    form_version: str
    consent_version: str
    assisted_by: str | None
    template_sealed: bytes | None


@dataclass(frozen=True)
class RegistrationStatus:
    """The status a villager may see after verifying their face again."""

    record_id: str
    receipt_no: str
    created_at: float
    verification: str
    status: str
    status_reason: str | None
    outbox_state: str | None


class RegistrationRepository:
    """SQL for the ``registration`` table and its outbox row."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def commit(self, reg: NewRegistration, kind: str, payload: bytes) -> None:
        """Insert the registration and its sealed outbox row atomically (both or neither)."""
        with transaction(self._conn) as c:
            c.execute(
                "INSERT INTO registration (record_id, receipt_no, nik_hmac, created_at,"
                " created_mono, boot_id, clock_synced, verification, form_id, form_version,"
                " consent_version, assisted_by, template_sealed)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    reg.record_id,
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
                ),
            )
            c.execute(
                "INSERT INTO outbox (record_id, kind, payload, created_at) VALUES (?,?,?,?)",
                (reg.record_id, kind, payload, reg.created_at),
            )

    def by_nik(self, nik_hmac: str) -> list[RegistrationStatus]:
        """Registrations for one person, newest first."""
        rows = self._conn.execute(
            "SELECT r.record_id, r.receipt_no, r.created_at, r.verification, r.status,"
            " r.status_reason, o.state FROM registration r"
            " LEFT JOIN outbox o ON o.record_id = r.record_id"
            " WHERE r.nik_hmac = ? ORDER BY r.created_at DESC",
            (nik_hmac,),
        ).fetchall()
        return [RegistrationStatus(*row) for row in rows]

    def set_status(self, record_id: str, status: str, reason: str | None, at: float) -> bool:
        """Record a status update from the portal; returns False for an unknown record."""
        with transaction(self._conn) as c:
            cur = c.execute(
                "UPDATE registration SET status = ?, status_reason = ?, status_at = ?"
                " WHERE record_id = ?",
                (status, reason, at, record_id),
            )
        return cur.rowcount == 1

    def purge_template(self, record_id: str) -> None:
        """Forget the sealed face template once the portal holds the record."""
        with transaction(self._conn) as c:
            c.execute(
                "UPDATE registration SET template_sealed = NULL WHERE record_id = ?", (record_id,)
            )

    def count(self) -> int:
        """Number of registrations stored."""
        return int(self._conn.execute("SELECT COUNT(*) FROM registration").fetchone()[0])
