"""The portal's status desk: answers status queries and keeps objections (sanggah).

One desk holds the rules; the store behind it is a :class:`portal.status_book.StatusBook`: the
reference portal's SQLite file, or the ingest workers' PostgreSQL database (the workers run the
desk as their ``status`` service, so any worker answers any query and checks any objection).

* Every stored registration is found by :func:`kiosk.core.portal_status.nik_digest` of its
  NIK and its receipt code, whichever kiosk it came from, so a person can see their status at
  any kiosk of the village, not only where they registered.
* A ``status_request`` (opened from its sealed envelope by the receiver) is answered with a
  signed ``status_reply`` on the asking kiosk's own topic: every version of the registration
  with this digest and code, the decision on each, and the objections to it.
* An ``objection`` record is checked again here (the kiosk checked it first): it must name a
  registration the portal holds with a decision, be filed within ``objection_window_days`` of
  that decision, and not duplicate an open objection; otherwise it is kept as ``rejected`` with
  the reason, which the person then sees in the status.
* Status queries are limited per kiosk by a :class:`portal.queries.QueryLimit` (scope
  ``status``; on PostgreSQL one count shared by every worker): a kiosk that floods queries gets
  a signed ``refused``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.core.names import Name
from kiosk.core.objection import REASONS
from kiosk.core.portal_status import OBJECTION_STATES
from kiosk.errors import ProtocolError
from kiosk.uplink import messages
from portal.intake import Opened, Outgoing
from portal.queries import Query, QueryDesk, QueryLimit
from portal.status_book import Decision, ObjectionRow, SqliteStatusBook, StatusBook, open_book

log = logging.getLogger("portal.status")


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


DECIDED = frozenset({"eligible", "not_eligible"})
REGISTRATION_STATUSES = ("received", "verified", "eligible", "not_eligible")
"""What the portal says about a registration (the ``status`` message's enum)."""

STATUS_QUERY = Query(
    "status",
    Name.STATUS_REQUEST,
    Name.STATUS_REPLY,
    {"registrations": [], "objections": []},
    "status request",
)


class StatusDesk(QueryDesk):
    """The status desk's rules over a :class:`portal.status_book.StatusBook` (a path: the
    SQLite book in that file); status queries limited by ``limit``."""

    QUERY = STATUS_QUERY

    def __init__(
        self,
        book: StatusBook | Path,
        signing_key: Ed25519PrivateKey,
        *,
        objection_window_days: int = 30,
        limit: QueryLimit | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(signing_key, limit, clock=clock)
        self.book: StatusBook = SqliteStatusBook(book) if isinstance(book, Path) else book
        self.objection_window_days = objection_window_days

    # --- the portal service (portal/kinds.py: answered_by="status") -----------------------
    def service(self, kind: str, items: list[Opened]) -> list[Outgoing]:
        """Check and keep objections (redelivered copies too: keeping is idempotent, so a
        crash between the commit and this step loses no check); answer status queries on the
        asking kiosk's own topic."""
        if kind == Name.OBJECTION:
            self.on_records(
                [
                    (i.incoming.device_id, i.incoming.record_id, kind, i.incoming.record)
                    for i in items
                ]
            )
            return []
        return self.answer_each(kind, items)

    # --- records ------------------------------------------------------------------------
    def on_records(self, items: list[tuple[str, str, str, dict[str, Any]]]) -> None:
        """:meth:`on_record` for a batch of (device id, record id, kind, record), in ONE
        transaction (one fsync per batch, not per record)."""
        if not items:
            return
        with self.book.batch():
            for item in items:
                self.on_record(*item)

    def on_record(self, device_id: str, record_id: str, kind: str, record: dict[str, Any]) -> None:
        """Index a newly stored registration, or check and keep a newly stored objection."""
        if kind == Name.REGISTRATION:
            self.book.index(device_id, record_id, record, self._clock())
        elif kind == Name.OBJECTION:
            with self.book.batch():
                self._objection(device_id, record)

    def _objection(self, device_id: str, record: dict[str, Any]) -> None:
        try:
            messages.check(Name.OBJECTION, record)
        except ProtocolError as err:
            self._keep(device_id, record, "rejected", f"invalid objection: {err}"[:500])
            return
        state, reason = "received", None
        # ownership: the decision looked up is that of the objector's own NIK digest
        decision = self.book.latest_decision(record["registration_id"], record["nik_digest"])
        open_one = self.book.open_objection(record["registration_id"], record["objection_id"])
        filed_at = float(record["clock"]["wall"])
        if decision is None or decision[0] not in DECIDED or decision[1] is None:
            state, reason = "rejected", "no decision on this registration to object to"
        elif filed_at > float(decision[1]) + self.objection_window_days * 86400.0:
            state, reason = "rejected", "filed after the objection window closed"
        elif open_one:
            state, reason = "rejected", "an objection to this decision is already open"
        self._keep(device_id, record, state, reason)

    def _keep(self, device_id: str, record: dict[str, Any], state: str, reason: str | None) -> None:
        by = _dict(record.get("filed_by"))
        who = "agent:" + str(by.get("agent_id")) if by.get("role") == "agent" else "villager"
        clock = _dict(record.get("clock"))
        code = record.get("reason_code")
        wall = clock.get("wall")
        self.book.keep_objection(
            ObjectionRow(
                device_id=device_id,
                objection_id=str(record.get("objection_id", ""))[:64],
                registration_id=str(record.get("registration_id", ""))[:64],
                nik_digest=str(record.get("nik_digest", ""))[:64],
                reason_code=code if code in REASONS else "other",
                filed_at=float(wall) if isinstance(wall, int | float) else self._clock(),
                filed_by=who[:48],
                has_note=bool(record.get("note")),
                has_evidence=bool(record.get("evidence")),
                state=state,
                state_reason=reason,
                state_at=self._clock(),
            )
        )

    # --- decisions ----------------------------------------------------------------------
    def decided(
        self, device_id: str, record_id: str, status: str, reason: str | None, at: float
    ) -> bool:
        """Record the decision on one registration version for later queries; the PostgreSQL
        book also queues its ``status`` message to the kiosk (portal.status_push). False when
        the portal holds no such registration; ValueError for a status or reason the
        ``status`` schema does not allow."""
        if status not in REGISTRATION_STATUSES:
            raise ValueError(f"registration status {status!r} is not one of the portal's")
        if reason is not None and len(reason) > 500:
            raise ValueError("a decision's reason is at most 500 characters")
        if status == "not_eligible" and not reason:
            raise ValueError("a not_eligible decision needs its reason")
        decision = Decision(status, reason, at if status in DECIDED else None)
        return self.book.decided(device_id, record_id, decision, at)

    def decide_objection(self, objection_id: str, state: str, reason: str | None = None) -> bool:
        """An officer moves an objection on (under_review, upheld, rejected: with a reason);
        False when unknown or already final."""
        if state not in OBJECTION_STATES or state == "received":
            raise ValueError(f"objection state {state!r} cannot be set")
        if state == "rejected" and not reason:
            raise ValueError("a rejected objection needs a reason")
        return self.book.move_objection(objection_id, state, reason, self._clock())

    def objections(self) -> list[tuple[Any, ...]]:
        """(objection id, device, registration id, reason code, filed at, by, note?, photo?,
        state, reason) of every objection, newest first (no personal data)."""
        return self.book.objections()

    def objection_state(self, objection_id: str) -> tuple[str, str | None] | None:
        """(state, reason) of one objection, or None."""
        return self.book.objection_state(objection_id)

    # --- queries ------------------------------------------------------------------------
    def find(self, request: dict[str, Any]) -> dict[str, Any]:
        """Every version of the registration with this NIK digest and code, and its
        objections."""
        regs, objections = self.book.lookup(request["nik_digest"], request["receipt_no"])
        return {
            "result": "found" if regs else "not_found",
            "registrations": regs,
            "objections": objections,
        }

    def close(self) -> None:
        """Close the book."""
        self.book.close()


def main(argv: list[str] | None = None) -> int:
    """Officer's command line: list objections, move one on (under_review/upheld/rejected),
    record the decision on a registration version (on the PostgreSQL path an ingest worker
    then pushes it to the kiosk; a kiosk also sees it in its next status answer), or list the
    decisions not yet delivered (pushes)."""
    import argparse

    from kiosk.crypto.keys import load_signing_private_key

    p = argparse.ArgumentParser(prog="python -m portal.status_desk", description=main.__doc__)
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--db", type=Path, help="reference portal database (SQLite file)")
    where.add_argument("--dsn", help="the ingest workers' PostgreSQL database (a DSN)")
    p.add_argument("--signing-key", type=Path, required=True, help="portal Ed25519 key, PEM")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="objections, newest first")
    decide = sub.add_parser("decide", help="set an objection's state")
    decide.add_argument("objection_id")
    decide.add_argument("state", choices=[s for s in OBJECTION_STATES if s != "received"])
    decide.add_argument("--reason", help="required for rejected; shown to the person")
    decision = sub.add_parser("decision", help="record the decision on a registration version")
    decision.add_argument("device_id")
    decision.add_argument("record_id")
    decision.add_argument("status", choices=REGISTRATION_STATUSES)
    decision.add_argument("--reason", help="shown to the person (not_eligible: required)")
    sub.add_parser("pushes", help="decisions not yet delivered to their kiosk (--dsn only)")
    args = p.parse_args(argv)
    if args.command == "pushes":
        return _pushes(args.dsn)
    book = open_book("postgres", args.dsn) if args.dsn else SqliteStatusBook(args.db)
    desk = StatusDesk(book, load_signing_private_key(args.signing_key))
    try:
        if args.command == "list":
            for row in desk.objections():
                print("\t".join("" if v is None else str(v) for v in row))
            return 0
        if args.command == "decision":
            try:
                held = desk.decided(
                    args.device_id, args.record_id, args.status, args.reason, time.time()
                )
            except ValueError as err:
                print(f"error: {err}")
                return 2
            print("done" if held else "error: the portal holds no such registration")
            return 0 if held else 1
        try:
            done = desk.decide_objection(args.objection_id, args.state, args.reason)
        except ValueError as err:
            print(f"error: {err}")
            return 2
        print("done" if done else "unknown or already decided")
        return 0 if done else 1
    finally:
        desk.close()


def _pushes(dsn: str | None) -> int:
    """Print the decisions the workers have not yet delivered, and what each waits for."""
    if dsn is None:
        print("error: decisions wait for their kiosk on the PostgreSQL path only (use --dsn)")
        return 2
    from portal.status_push import pending  # psycopg only where it is used

    for row in pending(dsn, time.time()):
        print("\t".join(str(v) for v in row))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
