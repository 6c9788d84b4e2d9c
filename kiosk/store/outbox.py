"""Repository over the ``outbox`` table: the kiosk's source of truth until the portal acks."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from kiosk.core.outbox import OutboxState
from kiosk.core.tally import Count, record_count
from kiosk.store import tally
from kiosk.store.db import after_commit, transaction

AckEffect = Callable[[sqlite3.Connection, Sequence[str], float], None]
"""What a record kind's owner does, inside the ack transaction, once the portal holds records
of that kind: ``effect(tx, record_ids, now)`` (wall seconds ``now``)."""


@dataclass(frozen=True)
class OutboxRow:
    """One record waiting to be published."""

    seq: int
    record_id: str
    kind: str
    payload: bytes
    attempts: int
    created_at: float


@dataclass(frozen=True)
class OutboxCounts:
    """How many rows are in each state."""

    pending: int = 0
    sent: int = 0
    acked: int = 0
    dead: int = 0

    @property
    def waiting(self) -> int:
        """Records not yet held by the portal ("N waiting to send"): pending + sent."""
        return self.pending + self.sent


def _chunks(items: list[str], size: int = 500) -> Iterable[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _nothing() -> None:
    """No relay to wake (a tool, a test, or the relay's own connection)."""


class OutboxRepository:
    """SQL for the outbox. One instance per thread (each thread opens its own connection).

    :meth:`enqueue` is the only way into the outbox, for every record kind (registration, vouch,
    household, audit, ...): ``on_commit`` (the uplink's wake-up, wired by ``kiosk.app``) runs
    once each new row is committed, so the relay sends it at once instead of at its next poll.
    """

    def __init__(self, conn: sqlite3.Connection, on_commit: Callable[[], None] = _nothing) -> None:
        self._conn = conn
        self._on_commit = on_commit

    def enqueue(
        self,
        record_id: str,
        kind: str,
        payload: bytes,
        now: float,
        *,
        tx: sqlite3.Connection | None = None,
        counts: Iterable[Count] = (),
    ) -> None:
        """Add a pending sealed record (created at wall seconds ``now``).

        With ``tx``, the caller's open transaction, the row commits (or rolls back) with the
        caller's own rows, such as the registration it carries; without, in its own transaction.
        The meeting report's tallies (one more ``kind``, and the caller's ``counts``) are added
        in the same transaction, so they outlive the row's purge once the portal holds it.
        """
        if tx is None:
            with transaction(self._conn) as c:
                self.enqueue(record_id, kind, payload, now, tx=c, counts=counts)
            return
        tx.execute(
            "INSERT INTO outbox (record_id, kind, payload, created_at) VALUES (?,?,?,?)",
            (record_id, kind, payload, now),
        )
        tally.add(tx, now, [record_count(kind), *counts])
        after_commit(tx, self._on_commit)

    def next_batch(self, limit: int, now: float, horizon_s: float = 86400.0) -> list[OutboxRow]:
        """Up to ``limit`` pending records due at ``now``, oldest first.

        A retry time more than ``horizon_s`` seconds ahead can only come from a wall clock that
        has since jumped backwards (no RTC on a Pi), so such rows count as due too.
        """
        if limit <= 0:
            return []
        rows = self._conn.execute(
            "SELECT seq, record_id, kind, payload, attempts, created_at FROM outbox"
            " WHERE state = 'pending' AND (next_attempt_at <= ? OR next_attempt_at > ?)"
            " ORDER BY seq LIMIT ?",
            (now, now + horizon_s, limit),
        ).fetchall()
        return [OutboxRow(*row) for row in rows]

    def mark_sent(self, record_ids: list[str], now: float) -> None:
        """Pending/sent -> sent, counting one more attempt (wall seconds ``now``)."""
        with transaction(self._conn) as c:
            for part in _chunks(record_ids):
                marks = ",".join("?" * len(part))
                c.execute(
                    "UPDATE outbox SET state = 'sent', attempts = attempts + 1, sent_at = ?"
                    f" WHERE state IN ('pending', 'sent') AND record_id IN ({marks})",
                    (now, *part),
                )

    def mark_acked(
        self,
        record_ids: list[str],
        now: float,
        effects: Mapping[str, AckEffect] | None = None,
    ) -> list[str]:
        """Any state -> acked (idempotent); returns the ids that were not acked before.

        In the same transaction (one fsync per batch of acks, not per record) each record
        kind's own effect runs over that kind's acked ids: ``effects`` maps a kind to what its
        owner does once the portal holds the record (``kiosk.uplink.topics.RECORD_KINDS``
        declares them; e.g. a registration forgets its face template). This repository writes
        only the outbox table.
        """
        record_ids = list(dict.fromkeys(record_ids))
        fresh: list[str] = []
        by_kind: dict[str, list[str]] = {}
        with transaction(self._conn) as c:
            for part in _chunks(record_ids):
                marks = ",".join("?" * len(part))
                for record_id, kind, state in c.execute(
                    f"SELECT record_id, kind, state FROM outbox WHERE record_id IN ({marks})",
                    part,
                ):
                    by_kind.setdefault(kind, []).append(record_id)
                    if state != "acked":
                        fresh.append(record_id)
                c.execute(
                    f"UPDATE outbox SET state = 'acked', acked_at = ?, last_error = NULL"
                    f" WHERE state != 'acked' AND record_id IN ({marks})",
                    (now, *part),
                )
            for kind, ids in by_kind.items():
                effect = (effects or {}).get(kind)
                if effect is not None:
                    effect(c, ids, now)
        return fresh

    def mark_dead(self, record_id: str, reason: str) -> bool:
        """Pending/sent -> dead with ``reason``; False if the record is unknown or acked."""
        with transaction(self._conn) as c:
            cur = c.execute(
                "UPDATE outbox SET state = 'dead', last_error = ?"
                " WHERE record_id = ? AND state IN ('pending', 'sent', 'dead')",
                (reason, record_id),
            )
        return cur.rowcount == 1

    def retry_later(self, record_id: str, at: float, error: str) -> None:
        """Sent/pending -> pending, not before wall time ``at``, remembering ``error``."""
        with transaction(self._conn) as c:
            c.execute(
                "UPDATE outbox SET state = 'pending', next_attempt_at = ?, last_error = ?"
                " WHERE record_id = ? AND state IN ('pending', 'sent')",
                (at, error, record_id),
            )

    def requeue_sent(
        self,
        now: float,
        sent_before: float | None = None,
        delay: Callable[[int], float] | None = None,
    ) -> int:
        """Sent -> pending for rows sent before ``sent_before`` (all when None).

        ``delay(attempts)`` gives seconds to wait before the retry (0 when None). Used at
        start-up (nothing in flight survives a restart) and after the ack timeout.
        """
        with transaction(self._conn) as c:
            if sent_before is None:
                rows = c.execute(
                    "SELECT record_id, attempts FROM outbox WHERE state = 'sent'"
                ).fetchall()
            else:
                rows = c.execute(
                    "SELECT record_id, attempts FROM outbox WHERE state = 'sent'"
                    " AND (sent_at < ? OR sent_at > ?)",  # > now: the wall clock went back
                    (sent_before, now),
                ).fetchall()
            for record_id, attempts in rows:
                wait = delay(max(1, attempts)) if delay is not None else 0.0
                c.execute(
                    "UPDATE outbox SET state = 'pending', next_attempt_at = ?,"
                    " last_error = COALESCE(last_error, 'no acknowledgement from the portal')"
                    " WHERE record_id = ? AND state = 'sent'",
                    (now + wait, record_id),
                )
        return len(rows)

    def revive_dead(self, now: float) -> int:
        """Dead -> pending (an operator fixed the cause); returns how many."""
        with transaction(self._conn) as c:
            cur = c.execute(
                "UPDATE outbox SET state = 'pending', next_attempt_at = ?, attempts = 0"
                " WHERE state = 'dead'",
                (now,),
            )
        return cur.rowcount

    def purge_acked(self, before: float) -> int:
        """Delete acked rows acknowledged before wall time ``before``; returns how many."""
        with transaction(self._conn) as c:
            cur = c.execute("DELETE FROM outbox WHERE state = 'acked' AND acked_at < ?", (before,))
        return cur.rowcount

    def counts(self) -> OutboxCounts:
        """Rows per state."""
        found = dict(
            self._conn.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state").fetchall()
        )
        return OutboxCounts(**{s.value: int(found.get(s.value, 0)) for s in OutboxState})

    def timers(self) -> tuple[float | None, float | None]:
        """(earliest retry time of a pending row, earliest send time of a sent row), wall s."""
        row = self._conn.execute(
            "SELECT MIN(CASE WHEN state = 'pending' THEN next_attempt_at END),"
            " MIN(CASE WHEN state = 'sent' THEN sent_at END)"
            " FROM outbox WHERE state IN ('pending', 'sent')"
        ).fetchone()
        return (
            None if row[0] is None else float(row[0]),
            None if row[1] is None else float(row[1]),
        )

    def inflight(self) -> int:
        """Records published and not yet acked."""
        return int(
            self._conn.execute("SELECT COUNT(*) FROM outbox WHERE state = 'sent'").fetchone()[0]
        )

    def oldest_pending_age(self, now: float) -> float | None:
        """Seconds since the oldest not-yet-acked record was created, or None if none wait."""
        row = self._conn.execute(
            "SELECT MIN(created_at) FROM outbox WHERE state IN ('pending', 'sent')"
        ).fetchone()
        return None if row[0] is None else max(0.0, now - float(row[0]))

    def known(self, record_ids: list[str]) -> set[str]:
        """The ids among ``record_ids`` that have an outbox row (in any state)."""
        found: set[str] = set()
        for part in _chunks(list(dict.fromkeys(record_ids))):
            marks = ",".join("?" * len(part))
            found.update(
                r[0]
                for r in self._conn.execute(
                    f"SELECT record_id FROM outbox WHERE record_id IN ({marks})", part
                )
            )
        return found

    def unacked(self, after_seq: int = 0, limit: int = 500) -> list[OutboxRow]:
        """Rows the portal does not hold yet (any state but acked), oldest first, paged by seq."""
        rows = self._conn.execute(
            "SELECT seq, record_id, kind, payload, attempts, created_at FROM outbox"
            " WHERE state != 'acked' AND seq > ? ORDER BY seq LIMIT ?",
            (after_seq, limit),
        ).fetchall()
        return [OutboxRow(*row) for row in rows]

    def unacked_bytes(self) -> int:
        """Total payload size of the rows the portal does not hold yet, bytes."""
        row = self._conn.execute(
            "SELECT COALESCE(SUM(LENGTH(payload)), 0) FROM outbox WHERE state != 'acked'"
        ).fetchone()
        return int(row[0])

    def state_of(self, record_id: str) -> tuple[str, int, str | None] | None:
        """(state, attempts, last_error) of one record, or None if unknown."""
        row = self._conn.execute(
            "SELECT state, attempts, last_error FROM outbox WHERE record_id = ?", (record_id,)
        ).fetchone()
        return None if row is None else (row[0], int(row[1]), row[2])

    def dead(self) -> list[tuple[str, str | None]]:
        """(record_id, reason) of every dead record."""
        return [
            (r[0], r[1])
            for r in self._conn.execute(
                "SELECT record_id, last_error FROM outbox WHERE state = 'dead' ORDER BY seq"
            )
        ]
