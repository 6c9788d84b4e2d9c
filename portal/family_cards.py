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
* Queries are rate-limited per kiosk (``queries_per_window`` per ``window_s``): a kiosk that
  floods queries, e.g. walking the KK number space, gets ``refused``.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.core.family_card import PortalFamily, kk_digest
from kiosk.core.names import Name
from kiosk.errors import ProtocolError
from kiosk.uplink import messages
from kiosk.uplink.replies import sign_reply
from portal.intake import Opened, Outgoing

log = logging.getLogger("portal.family_cards")

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
        import psycopg  # the portal's PostgreSQL path only

        from portal.ingest.migrate import migrate

        self._dsn = dsn
        self._connect = psycopg.connect
        self._conn = psycopg.connect(dsn, autocommit=True)
        migrate(self._conn)
        self._lock = threading.Lock()

    def rows(self, digest: str) -> list[Row]:
        """The stored versions of the card ``digest`` (one index scan)."""
        with self._lock:
            if self._conn.closed or self._conn.broken:  # the server restarted: a new session
                self._conn = self._connect(self._dsn, autocommit=True)
            found = self._conn.execute(_PG_ROWS, (digest, MAX_ROWS)).fetchall()
        return [Row(str(r[0]), int(r[1]), float(r[2]), r[3]) for r in found]

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()


class FamilyDesk:
    """Answers family card queries from a :class:`FamilyIndex` (the ``family`` service)."""

    def __init__(
        self,
        index: FamilyIndex,
        signing_key: Ed25519PrivateKey,
        *,
        queries_per_window: int = 60,
        window_s: float = 600.0,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.index = index
        self._key = signing_key
        self._limit = queries_per_window
        self._window_s = window_s
        self._clock = clock
        self._monotonic = monotonic
        self._asked: dict[str, deque[float]] = {}

    def answer(self, device_id: str, request: dict[str, Any]) -> bytes:
        """The signed ``kk_reply`` for an opened ``kk_request`` record (raises ProtocolError
        for an invalid one: nothing is answered)."""
        messages.check(Name.KK_REQUEST, request)
        if request["device_id"] != device_id:
            raise ProtocolError("family card request names another device")
        body: dict[str, Any] = {
            "v": 1,
            "request_id": request["request_id"],
            "at": self._clock(),
            "result": "refused",
            "registration": None,
        }
        if self._admit(device_id):
            found = pick(self.index.rows(request["kk_digest"]))
            body["result"] = "not_known" if found is None else "known"
            if found is not None:
                body["registration"] = {
                    "registration_id": found.registration_id,
                    "version": found.version,
                    "registered_at": found.registered_at,
                    "members_count": found.members_count,
                }
        return sign_reply(Name.KK_REPLY, device_id, body, self._key)

    def _admit(self, device_id: str) -> bool:
        now, seen = self._monotonic(), self._asked.setdefault(device_id, deque())
        while seen and now - seen[0] > self._window_s:
            seen.popleft()
        if len(seen) >= self._limit:
            log.warning("family card queries from %s over the limit: refused", device_id)
            return False
        seen.append(now)
        return True

    def __call__(self, kind: str, items: list[Opened]) -> list[Outgoing]:
        """The intake's ``family`` service: answer each query on the asking kiosk's topic."""
        out: list[Outgoing] = []
        for item in items:
            inc = item.incoming
            try:
                reply = self.answer(inc.device_id, inc.record)
            except ProtocolError as err:
                log.warning("family card request from %s rejected: %s", inc.device_id, err)
                continue
            out.append(Outgoing(inc.device_id, Name.KK_REPLY, reply, inc.record_id.encode()))
        return out
