"""The portal's status desk: answers status queries and keeps objections (sanggah).

* Every stored registration is indexed by :func:`kiosk.core.portal_status.nik_digest` of its
  NIK and its receipt code, whichever kiosk it came from, so a person can see their status at
  any kiosk of the village, not only where they registered.
* A ``status_request`` (opened from its sealed envelope by the receiver) is answered with a
  signed ``status_reply`` on the asking kiosk's own topic: every version of the registration
  with this digest and code, the decision on each, and the objections to it.
* An ``objection`` record is checked again here (the kiosk checked it first): it must name a
  registration the portal holds with a decision, be filed within ``objection_window_days`` of
  that decision, and not duplicate an open objection; otherwise it is kept as ``rejected`` with
  the reason, which the person then sees in the status.
* Status queries are rate-limited per kiosk (``queries_per_window`` per ``window_s``): a kiosk
  that floods queries gets ``refused``.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.core.names import Name
from kiosk.core.objection import REASONS
from kiosk.core.portal_status import FINAL_OBJECTION_STATES, OBJECTION_STATES, nik_digest
from kiosk.errors import ProtocolError
from kiosk.uplink import messages
from kiosk.uplink.replies import sign_reply

SCHEMA = """
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


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


DECIDED = frozenset({"eligible", "not_eligible"})
MAX_ROWS = 20


class StatusDesk:
    """Status index, decisions and objections in the portal's database (own connection)."""

    def __init__(
        self,
        db_path: Path,
        signing_key: Ed25519PrivateKey,
        *,
        objection_window_days: int = 30,
        queries_per_window: int = 60,
        window_s: float = 600.0,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        db_path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.executescript(SCHEMA)
        self._lock = threading.RLock()  # on_records holds it across its transaction
        self._key = signing_key
        self.objection_window_days = objection_window_days
        self._limit = queries_per_window
        self._window_s = window_s
        self._clock = clock
        self._monotonic = monotonic
        self._queries: dict[str, deque[float]] = {}

    # --- records ------------------------------------------------------------------------
    def on_records(self, items: list[tuple[str, str, str, dict[str, Any]]]) -> None:
        """:meth:`on_record` for a batch of (device id, record id, kind, record), in ONE
        transaction (one fsync per batch, not per record)."""
        if not items:
            return
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                for item in items:
                    self.on_record(*item)
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    def on_record(self, device_id: str, record_id: str, kind: str, record: dict[str, Any]) -> None:
        """Index a newly stored registration, or check and keep a newly stored objection."""
        if kind == Name.REGISTRATION:
            self._index(device_id, record_id, record)
        elif kind == Name.OBJECTION:
            self._objection(device_id, record)

    def _index(self, device_id: str, record_id: str, record: dict[str, Any]) -> None:
        nik, receipt = record.get("nik"), record.get("receipt_no")
        if not isinstance(nik, str) or not isinstance(receipt, str):
            return  # not a registration a person can look up (e.g. a test record)
        reg = _dict(record.get("registration"))
        verification = record.get("verification")
        outcome = verification.get("outcome") if isinstance(verification, dict) else None
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
                    self._clock(),
                ),
            )

    def _objection(self, device_id: str, record: dict[str, Any]) -> None:
        try:
            messages.check(Name.OBJECTION, record)
        except ProtocolError as err:
            self._keep_objection(device_id, record, "rejected", f"invalid objection: {err}"[:500])
            return
        state, reason = "received", None
        with self._lock:
            row = self._conn.execute(
                "SELECT status, decided_at FROM status_index WHERE registration_id = ?"
                " AND nik_digest = ? ORDER BY version DESC LIMIT 1",
                (record["registration_id"], record["nik_digest"]),
            ).fetchone()
            open_one = self._conn.execute(
                "SELECT 1 FROM objection WHERE registration_id = ? AND objection_id != ?"
                " AND state NOT IN ('upheld', 'rejected') LIMIT 1",
                (record["registration_id"], record["objection_id"]),
            ).fetchone()
        filed_at = float(record["clock"]["wall"])
        if row is None or row[0] not in DECIDED or row[1] is None:
            state, reason = "rejected", "no decision on this registration to object to"
        elif filed_at > float(row[1]) + self.objection_window_days * 86400.0:
            state, reason = "rejected", "filed after the objection window closed"
        elif open_one is not None:
            state, reason = "rejected", "an objection to this decision is already open"
        self._keep_objection(device_id, record, state, reason)

    def _keep_objection(
        self, device_id: str, record: dict[str, Any], state: str, reason: str | None
    ) -> None:
        by = _dict(record.get("filed_by"))
        who = "agent:" + str(by.get("agent_id")) if by.get("role") == "agent" else "villager"
        clock = _dict(record.get("clock"))
        code = record.get("reason_code")
        with self._lock:
            self._conn.execute(
                "INSERT OR IGNORE INTO objection (device_id, objection_id, registration_id,"
                " nik_digest, reason_code, filed_at, filed_by, has_note, has_evidence, state,"
                " state_reason, state_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    device_id,
                    str(record.get("objection_id", "")),
                    str(record.get("registration_id", "")),
                    str(record.get("nik_digest", "")),
                    code if code in REASONS else "other",
                    float(clock.get("wall") or self._clock()),
                    who,
                    int(bool(record.get("note"))),
                    int(bool(record.get("evidence"))),
                    state,
                    reason,
                    self._clock(),
                ),
            )

    # --- decisions ----------------------------------------------------------------------
    def decided(
        self, device_id: str, record_id: str, status: str, reason: str | None, at: float
    ) -> None:
        """Remember the decision sent to a kiosk (``status`` message) for later queries."""
        with self._lock:
            self._conn.execute(
                "UPDATE status_index SET status = ?, reason = ?, decided_at = ?"
                " WHERE device_id = ? AND record_id = ?",
                (status, reason, at if status in DECIDED else None, device_id, record_id),
            )

    def decide_objection(self, objection_id: str, state: str, reason: str | None = None) -> bool:
        """An officer moves an objection on (under_review, upheld, rejected: with a reason);
        False when unknown or already final."""
        if state not in OBJECTION_STATES or state == "received":
            raise ValueError(f"objection state {state!r} cannot be set")
        if state == "rejected" and not reason:
            raise ValueError("a rejected objection needs a reason")
        with self._lock:
            cur = self._conn.execute(
                "UPDATE objection SET state = ?, state_reason = ?, state_at = ?"
                " WHERE objection_id = ? AND state NOT IN (?, ?)",
                (state, reason, self._clock(), objection_id, *sorted(FINAL_OBJECTION_STATES)),
            )
        return cur.rowcount == 1

    def objections(self) -> list[tuple[Any, ...]]:
        """(objection id, device, registration id, reason code, filed at, by, note?, photo?,
        state, reason) of every objection, newest first (no personal data)."""
        with self._lock:
            return list(
                self._conn.execute(
                    "SELECT objection_id, device_id, registration_id, reason_code, filed_at,"
                    " filed_by, has_note, has_evidence, state, state_reason FROM objection"
                    " ORDER BY filed_at DESC"
                )
            )

    def objection_state(self, objection_id: str) -> tuple[str, str | None] | None:
        """(state, reason) of one objection, or None."""
        with self._lock:
            row = self._conn.execute(
                "SELECT state, state_reason FROM objection WHERE objection_id = ?",
                (objection_id,),
            ).fetchone()
        return None if row is None else (str(row[0]), row[1])

    # --- queries ------------------------------------------------------------------------
    def answer(self, device_id: str, request: dict[str, Any]) -> bytes:
        """The signed ``status_reply`` for an opened ``status_request`` record (raises
        ProtocolError for an invalid one: nothing is answered)."""
        messages.check("status_request", request)
        if request["device_id"] != device_id:
            raise ProtocolError("status request names another device")
        body: dict[str, Any] = {
            "v": 1,
            "request_id": request["request_id"],
            "at": self._clock(),
            "registrations": [],
            "objections": [],
        }
        if not self._admit(device_id):
            body["result"] = "refused"
            return sign_reply(Name.STATUS_REPLY, device_id, body, self._key)
        regs, objections = self._lookup(request["nik_digest"], request["receipt_no"])
        body.update(result="found" if regs else "not_found", registrations=regs)
        body["objections"] = objections
        return sign_reply(Name.STATUS_REPLY, device_id, body, self._key)

    def _admit(self, device_id: str) -> bool:
        now = self._monotonic()
        seen = self._queries.setdefault(device_id, deque())
        while seen and now - seen[0] > self._window_s:
            seen.popleft()
        if len(seen) >= self._limit:
            return False
        seen.append(now)
        return True

    def _lookup(
        self, digest: str, receipt: str
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
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
        regs = [
            {
                "registration_id": r[0],
                "record_id": r[1],
                "version": int(r[2]),
                "receipt_no": r[3],
                "verification": r[4],
                "status": r[5],
                "reason": r[6],
                "received_at": float(r[7]),
                "decided_at": r[8],
            }
            for r in rows
        ]
        objections = [
            {
                "objection_id": o[0],
                "registration_id": o[1],
                "reason_code": o[2],
                "state": o[3],
                "reason": o[4],
                "filed_at": float(o[5]),
                "state_at": o[6],
            }
            for o in objs
        ]
        return regs, objections

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._conn.close()


def main(argv: list[str] | None = None) -> int:
    """Officer's command line: list objections, or move one on (under_review/upheld/rejected)."""
    import argparse

    from kiosk.crypto.keys import load_signing_private_key

    p = argparse.ArgumentParser(prog="python -m portal.status_desk", description=main.__doc__)
    p.add_argument("--db", type=Path, required=True, help="portal database (SQLite)")
    p.add_argument("--signing-key", type=Path, required=True, help="portal Ed25519 key, PEM")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="objections, newest first")
    decide = sub.add_parser("decide", help="set an objection's state")
    decide.add_argument("objection_id")
    decide.add_argument("state", choices=[s for s in OBJECTION_STATES if s != "received"])
    decide.add_argument("--reason", help="required for rejected; shown to the person")
    args = p.parse_args(argv)
    desk = StatusDesk(args.db, load_signing_private_key(args.signing_key))
    try:
        if args.command == "list":
            for row in desk.objections():
                print("\t".join("" if v is None else str(v) for v in row))
            return 0
        try:
            done = desk.decide_objection(args.objection_id, args.state, args.reason)
        except ValueError as err:
            print(f"error: {err}")
            return 2
        print("done" if done else "unknown or already decided")
        return 0 if done else 1
    finally:
        desk.close()


if __name__ == "__main__":
    raise SystemExit(main())
