"""The portal's family card desk: is this No. KK registered, at whichever kiosk?

* Every stored registration's No. KK (``answers.kk_number``) is indexed by
  :func:`kiosk.core.family_card.kk_digest`: on the reference portal in its own SQLite table,
  written when a registration is newly stored (by MQTT or by USB stick); on PostgreSQL by an
  expression index over the ``record`` table itself (migration ``0004_kk_digest.sql``), so the
  ingest workers write nothing more.
* A ``kk_request`` (opened from its sealed envelope by the intake) is answered with a signed
  ``kk_reply`` on the asking kiosk's own topic: ``known`` with the registration an update must
  continue (the first registered, when offline kiosks registered the card twice; its newest
  version; when it was first registered; its member count), or ``not_known``. Never a name,
  a NIK or a receipt code: the card holder's household may hold other people.
* Queries are limited per kiosk by a :class:`portal.queries.QueryLimit` (scope ``family``; on
  PostgreSQL one count shared by every worker): a kiosk that floods queries, e.g. walking the
  KK number space, gets a signed ``refused``.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.core.family_card import PortalFamily, kk_digest
from kiosk.core.names import Name
from portal.queries import Query, QueryDesk, QueryLimit

MAX_ROWS = 200
"""Versions read for one digest at most (a card updated more often than this is absurd)."""

_ID = re.compile(r"^[0-9a-f-]{36}$")
_KK = re.compile(r"^[0-9]{16}$")


@dataclass(frozen=True)
class Row:
    """One stored registration version of a family card."""

    registration_id: str
    version: int
    received_at: float
    members_count: Any  # as stored: checked by :func:`pick`


class FamilyIndex(Protocol):
    """Where the portal finds the registrations of a KK digest."""

    def rows(self, digest: str) -> list[Row]:
        """The stored registration versions whose No. KK has ``digest`` (at most MAX_ROWS)."""
        ...


def pick(rows: Iterable[Row]) -> PortalFamily | None:
    """The registration an update continues: the first registered of the card (so two kiosks
    that registered it offline converge on one), with its newest version and member count."""
    good = [r for r in rows if _ID.match(r.registration_id) and 1 <= r.version <= 1_000_000]
    if not good:
        return None
    first = min(good, key=lambda r: (r.received_at, r.registration_id))
    mine = [r for r in good if r.registration_id == first.registration_id]
    newest = max(mine, key=lambda r: (r.version, r.received_at))
    count = newest.members_count
    ok = isinstance(count, int) and not isinstance(count, bool) and 0 <= count <= 99
    return PortalFamily(
        first.registration_id,
        newest.version,
        min(r.received_at for r in mine),
        count if ok else None,
    )


def _registration(device_id: str, record_id: str, record: dict[str, Any]) -> tuple[Any, ...]:
    """(kk digest, registration id, version, members count) of a registration record, or ()."""
    answers = record.get("answers")
    answers = answers if isinstance(answers, dict) else {}
    kk = answers.get("kk_number")
    if not isinstance(kk, str) or not _KK.match(kk):
        return ()
    reg = record.get("registration")
    reg = reg if isinstance(reg, dict) else {}
    version = reg.get("version")
    version = version if isinstance(version, int) and not isinstance(version, bool) else 1
    count = answers.get("members_count")
    return (kk_digest(kk), str(reg.get("id") or record_id), version, count)


SCHEMA = """
CREATE TABLE IF NOT EXISTS kk_index (
    device_id       TEXT NOT NULL,
    record_id       TEXT NOT NULL,
    kk_digest       TEXT NOT NULL,
    registration_id TEXT NOT NULL,
    version         INTEGER NOT NULL,
    members_count   INTEGER,
    received_at     REAL NOT NULL,
    PRIMARY KEY (device_id, record_id)
);
CREATE INDEX IF NOT EXISTS kk_index_digest ON kk_index(kk_digest);
"""


class SqliteFamilyIndex:
    """The reference portal's index: its own table in the portal's SQLite file."""

    def __init__(self, db_path: Path, *, clock: Callable[[], float] = time.time) -> None:
        db_path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.executescript(SCHEMA)
        self._lock = threading.Lock()
        self._clock = clock

    def on_records(self, items: Iterable[tuple[str, str, str, dict[str, Any]]]) -> None:
        """Index the No. KK of newly stored (device id, record id, kind, record) registrations,
        in one transaction."""
        now = self._clock()
        rows = [
            (d, r, *found, now)
            for d, r, kind, record in items
            if kind == Name.REGISTRATION and (found := _registration(d, r, record))
        ]
        if not rows:
            return
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.executemany(
                    "INSERT OR IGNORE INTO kk_index (device_id, record_id, kk_digest,"
                    " registration_id, version, members_count, received_at)"
                    " VALUES (?,?,?,?,?,?,?)",
                    rows,
                )
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    def rows(self, digest: str) -> list[Row]:
        """The indexed versions of the card ``digest``."""
        with self._lock:
            found = self._conn.execute(
                "SELECT registration_id, version, received_at, members_count FROM kk_index"
                " WHERE kk_digest = ? ORDER BY received_at LIMIT ?",
                (digest, MAX_ROWS),
            ).fetchall()
        return [Row(str(r[0]), int(r[1]), float(r[2]), r[3]) for r in found]

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._conn.close()


_PG_ROWS = """
SELECT COALESCE(record #>> '{registration,id}', record_id),
       CASE WHEN jsonb_typeof(record #> '{registration,version}') = 'number'
            THEN LEAST(GREATEST((record #> '{registration,version}')::numeric, 0), 1000000)::int
            ELSE 1 END,
       received_at,
       CASE WHEN jsonb_typeof(record #> '{answers,members_count}') = 'number'
            THEN LEAST(GREATEST((record #> '{answers,members_count}')::numeric, -1), 1000)::int
       END
FROM record
WHERE kind = 'registration' AND perlinsos_kk_digest(record) = %s
ORDER BY received_at
LIMIT %s
"""


class PostgresFamilyIndex:
    """The PostgreSQL index: the expression index of migration 0004 over ``record``."""

    def __init__(self, dsn: str) -> None:
        from portal.ingest.session import PgSession  # psycopg only where it is used

        self._db = PgSession(dsn)

    def rows(self, digest: str) -> list[Row]:
        """The stored versions of the card ``digest`` (one index scan)."""
        found = self._db.rows(_PG_ROWS, (digest, MAX_ROWS))
        return [Row(str(r[0]), int(r[1]), float(r[2]), r[3]) for r in found]

    def close(self) -> None:
        """Close the session."""
        self._db.close()


FAMILY_QUERY = Query(
    "family", Name.KK_REQUEST, Name.KK_REPLY, {"registration": None}, "family card request"
)


class FamilyDesk(QueryDesk):
    """Answers family card queries from a :class:`FamilyIndex` (:meth:`answer_each` is the
    ``family`` service), limited by ``limit``."""

    QUERY = FAMILY_QUERY

    def __init__(
        self,
        index: FamilyIndex,
        signing_key: Ed25519PrivateKey,
        *,
        limit: QueryLimit | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(signing_key, limit, clock=clock)
        self.index = index

    def find(self, request: dict[str, Any]) -> dict[str, Any]:
        """``known`` with what an update continues, or ``not_known``."""
        found = pick(self.index.rows(request["kk_digest"]))
        if found is None:
            return {"result": "not_known", "registration": None}
        return {
            "result": "known",
            "registration": {
                "registration_id": found.registration_id,
                "version": found.version,
                "registered_at": found.registered_at,
                "members_count": found.members_count,
            },
        }
