"""Where the status desk keeps what it knows: one small port, two backends in a registry.

The desk (:mod:`portal.status_desk`) holds every rule (the objection window, ownership, one open
objection per decision, the rate limit, the signed answer); a :class:`StatusBook` only stores and
finds rows. ``sqlite`` keeps its own status index beside the reference portal's records;
``postgres`` (:mod:`portal.status_pg`) reads the ingest workers' ``record`` table itself, keeps
decisions and objection states in the tables of migration 0003 and queues each decision's push to
its kiosk (:mod:`portal.status_push`, migration 0005).
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import astuple, dataclass
from pathlib import Path
from typing import Any, Protocol

from kiosk.core.portal_status import FINAL_OBJECTION_STATES, nik_digest

MAX_ROWS = 20
"""Most registration versions (and objections) one answer holds."""


@dataclass(frozen=True)
class ObjectionRow:
    """One objection as the desk keeps it (no personal data besides the NIK digest); the fields
    are the book's columns, in order."""

    device_id: str
    objection_id: str
    registration_id: str
    nik_digest: str
    reason_code: str
    filed_at: float
    filed_by: str  # villager | agent:<id>
    has_note: bool
    has_evidence: bool
    state: str
    state_reason: str | None
    state_at: float


@dataclass(frozen=True)
class Decision:
    """The decision on one registration version (the ``status`` message sent to its kiosk)."""

    status: str  # received | verified | eligible | not_eligible
    reason: str | None
    decided_at: float | None  # set for eligible / not_eligible: it opens the objection window


Found = tuple[list[dict[str, Any]], list[dict[str, Any]]]
"""(registration versions, objections) as the ``status_reply`` schema lists them."""


class StatusBook(Protocol):
    """What the status desk needs from a database."""

    def batch(self) -> contextlib.AbstractContextManager[None]:
        """One transaction around several of the writes below."""
        ...

    def index(self, device_id: str, record_id: str, record: dict[str, Any], at: float) -> None:
        """A newly stored registration becomes findable (a no-op where the records are read)."""
        ...

    def latest_decision(self, registration_id: str, digest: str) -> tuple[str, float | None] | None:
        """(status, decided at) of the newest version of this registration with this NIK
        digest, or None when the portal holds none; call inside :meth:`batch`."""
        ...

    def open_objection(self, registration_id: str, objection_id: str) -> bool:
        """True when another objection to this registration is still open; call inside
        :meth:`batch` (where workers run in parallel, this serialises them per registration)."""
        ...

    def keep_objection(self, row: ObjectionRow) -> None:
        """Keep an objection once (a second copy of the same id changes nothing)."""
        ...

    def decided(self, device_id: str, record_id: str, decision: Decision, at: float) -> bool:
        """Remember the decision taken at ``at`` on one registration version (a book whose
        kiosks no receiver tells at once also queues its ``status`` message); False when the
        book holds no such registration."""
        ...

    def move_objection(self, objection_id: str, state: str, reason: str | None, at: float) -> bool:
        """Set an objection's state unless it is final; False when unknown or final."""
        ...

    def objections(self) -> list[tuple[Any, ...]]:
        """(objection id, device, registration id, reason code, filed at, by, note?, photo?,
        state, reason) of every objection, newest first."""
        ...

    def objection_state(self, objection_id: str) -> tuple[str, str | None] | None:
        """(state, reason) of one objection, or None."""
        ...

    def lookup(self, digest: str, receipt: str) -> Found:
        """Every version of the registrations with this digest and receipt code, newest first,
        and their objections by the same NIK."""
        ...

    def close(self) -> None:
        """Release the database."""
        ...


_SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS status_index (
    device_id       TEXT NOT NULL,
    record_id       TEXT NOT NULL,
    registration_id TEXT NOT NULL,
    version         INTEGER NOT NULL,
    nik_digest      TEXT NOT NULL,
    receipt_no      TEXT NOT NULL,
    verification    TEXT,
    received_at     REAL NOT NULL,
    status          TEXT NOT NULL DEFAULT 'received',
    reason          TEXT,
    decided_at      REAL,
    PRIMARY KEY (device_id, record_id)
);
CREATE INDEX IF NOT EXISTS status_index_lookup ON status_index(nik_digest, receipt_no);
CREATE INDEX IF NOT EXISTS status_index_record ON status_index(record_id);
CREATE TABLE IF NOT EXISTS objection (
    device_id       TEXT NOT NULL,
    objection_id    TEXT NOT NULL,
    registration_id TEXT NOT NULL,
    nik_digest      TEXT NOT NULL,
    reason_code     TEXT NOT NULL,
    filed_at        REAL NOT NULL,
    filed_by        TEXT NOT NULL,          -- villager | agent:<id>
    has_note        INTEGER NOT NULL,
    has_evidence    INTEGER NOT NULL,
    state           TEXT NOT NULL,
    state_reason    TEXT,
    state_at        REAL,
    PRIMARY KEY (device_id, objection_id)
);
CREATE INDEX IF NOT EXISTS objection_registration ON objection(registration_id);
"""

_FINAL = tuple(sorted(FINAL_OBJECTION_STATES))


REGISTRATION_FIELDS = (
    "registration_id",
    "record_id",
    "version",
    "receipt_no",
    "verification",
    "status",
    "reason",
    "received_at",
    "decided_at",
)
"""A ``status_reply`` registration entry's fields, in the order the books select them."""
OBJECTION_FIELDS = (
    "objection_id",
    "registration_id",
    "reason_code",
    "state",
    "reason",
    "filed_at",
    "state_at",
)
"""A ``status_reply`` objection entry's fields, in the order the books select them."""
_TIMES = frozenset({"received_at", "decided_at", "filed_at", "state_at"})


def entry(fields: tuple[str, ...], row: tuple[Any, ...]) -> dict[str, Any]:
    """A ``status_reply`` entry from a selected row (times as floats, the version an int)."""
    out = dict(zip(fields, row, strict=True))
    for k in _TIMES.intersection(out):
        out[k] = None if out[k] is None else float(out[k])
    if "version" in out:
        out["version"] = int(out["version"])
    return out


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class SqliteStatusBook:
    """The embedded book: its own tables in the reference portal's SQLite file."""

    def __init__(self, db_path: Path) -> None:
        db_path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.executescript(_SQLITE_SCHEMA)
        self._lock = threading.RLock()  # batch() holds it across its transaction
        self._depth = 0

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """One IMMEDIATE transaction (the one writer: the check and the insert cannot race)."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self._conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            finally:
                self._depth = 0

    def index(self, device_id: str, record_id: str, record: dict[str, Any], at: float) -> None:
        """Index a registration by NIK digest and receipt code (records without both: no)."""
        nik, receipt = record.get("nik"), record.get("receipt_no")
        if not isinstance(nik, str) or not isinstance(receipt, str):
            return  # not a registration a person can look up (e.g. a test record)
        reg = _dict(record.get("registration"))
        outcome = _dict(record.get("verification")).get("outcome")
        with self._lock:
            self._conn.execute(
                "INSERT OR IGNORE INTO status_index (device_id, record_id, registration_id,"
                " version, nik_digest, receipt_no, verification, received_at)"
                " VALUES (?,?,?,?,?,?,?,?)",
                (
                    device_id,
                    record_id,
                    str(reg.get("id") or record_id),
                    int(reg.get("version") or 1),
                    nik_digest(nik),
                    receipt,
                    outcome if isinstance(outcome, str) else None,
                    at,
                ),
            )

    def latest_decision(self, registration_id: str, digest: str) -> tuple[str, float | None] | None:
        """(status, decided at) of the newest version."""
        with self._lock:
            row = self._conn.execute(
                "SELECT status, decided_at FROM status_index WHERE registration_id = ?"
                " AND nik_digest = ? ORDER BY version DESC LIMIT 1",
                (registration_id, digest),
            ).fetchone()
        return None if row is None else (str(row[0]), row[1])

    def open_objection(self, registration_id: str, objection_id: str) -> bool:
        """Another open objection to this registration?"""
        with self._lock:
            row = self._conn.execute(
                "SELECT 1 FROM objection WHERE registration_id = ? AND objection_id != ?"
                " AND state NOT IN (?, ?) LIMIT 1",
                (registration_id, objection_id, *_FINAL),
            ).fetchone()
        return row is not None

    def keep_objection(self, row: ObjectionRow) -> None:
        """Insert once."""
        with self._lock:
            self._conn.execute(
                "INSERT OR IGNORE INTO objection (device_id, objection_id, registration_id,"
                " nik_digest, reason_code, filed_at, filed_by, has_note, has_evidence, state,"
                " state_reason, state_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                astuple(row),  # the columns in field order (booleans stored as 0/1)
            )

    def decided(self, device_id: str, record_id: str, decision: Decision, at: float) -> bool:
        """Update the indexed version (the reference receiver sends the ``status`` itself)."""
        with self._lock:
            cur = self._conn.execute(
                "UPDATE status_index SET status = ?, reason = ?, decided_at = ?"
                " WHERE device_id = ? AND record_id = ?",
                (*astuple(decision), device_id, record_id),
            )
        return cur.rowcount == 1

    def move_objection(self, objection_id: str, state: str, reason: str | None, at: float) -> bool:
        """Set the state unless final."""
        with self._lock:
            cur = self._conn.execute(
                "UPDATE objection SET state = ?, state_reason = ?, state_at = ?"
                " WHERE objection_id = ? AND state NOT IN (?, ?)",
                (state, reason, at, objection_id, *_FINAL),
            )
        return cur.rowcount == 1

    def objections(self) -> list[tuple[Any, ...]]:
        """Every objection, newest first."""
        with self._lock:
            return list(
                self._conn.execute(
                    "SELECT objection_id, device_id, registration_id, reason_code, filed_at,"
                    " filed_by, has_note, has_evidence, state, state_reason FROM objection"
                    " ORDER BY filed_at DESC"
                )
            )

    def objection_state(self, objection_id: str) -> tuple[str, str | None] | None:
        """(state, reason), or None."""
        with self._lock:
            row = self._conn.execute(
                "SELECT state, state_reason FROM objection WHERE objection_id = ?",
                (objection_id,),
            ).fetchone()
        return None if row is None else (str(row[0]), row[1])

    def lookup(self, digest: str, receipt: str) -> Found:
        """Versions and objections for this digest + code."""
        with self._lock:
            ids = [
                r[0]
                for r in self._conn.execute(
                    "SELECT DISTINCT registration_id FROM status_index"
                    " WHERE nik_digest = ? AND receipt_no = ?",
                    (digest, receipt),
                )
            ]
            if not ids:
                return [], []
            marks = ",".join("?" for _ in ids)
            rows = self._conn.execute(
                "SELECT registration_id, record_id, version, receipt_no, verification, status,"
                " reason, received_at, decided_at FROM status_index"
                f" WHERE registration_id IN ({marks}) AND nik_digest = ?"
                " ORDER BY received_at DESC, version DESC LIMIT ?",
                (*ids, digest, MAX_ROWS),
            ).fetchall()
            objs = self._conn.execute(
                "SELECT objection_id, registration_id, reason_code, state, state_reason,"
                f" filed_at, state_at FROM objection WHERE registration_id IN ({marks})"
                " AND nik_digest = ? ORDER BY filed_at DESC LIMIT ?",
                (*ids, digest, MAX_ROWS),
            ).fetchall()
        return [entry(REGISTRATION_FIELDS, r) for r in rows], [
            entry(OBJECTION_FIELDS, o) for o in objs
        ]

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._conn.close()


def _postgres(target: str) -> StatusBook:
    from portal.status_pg import PostgresStatusBook  # psycopg only where it is used

    return PostgresStatusBook(target)


def _sqlite(target: str) -> StatusBook:
    return SqliteStatusBook(Path(target))


BOOKS: dict[str, Callable[[str], StatusBook]] = {"sqlite": _sqlite, "postgres": _postgres}
"""Backend name (the ingest store's) -> factory taking its target (file path or DSN)."""


def open_book(backend: str, target: str) -> StatusBook:
    """Open the status book ``backend`` at ``target``; a clear error for an unknown name."""
    if backend not in BOOKS:
        choices = ", ".join(sorted(BOOKS))
        raise ValueError(f"unknown status book {backend!r}: choose one of {choices}")
    return BOOKS[backend](target)
