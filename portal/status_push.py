"""Decisions pushed to the kiosks from PostgreSQL: durable, sent by one of N workers, and kept
until the broker's PUBACK.

The reference receiver signs and publishes a ``status`` message the moment it decides
(portal/receiver.py). On the PostgreSQL path an officer decides elsewhere (``python -m
portal.status_desk --dsn ... decision``, on any machine) while N ingest workers hold the broker
connections, so the decision is queued where it is recorded and the workers send it:

* :func:`queue` writes the message's content into ``status_push`` (migration 0005) in the
  decision's own transaction and NOTIFYs :data:`CHANNEL` at its commit. One row per
  registration version: a newer decision replaces one not yet sent, so a kiosk never gets an
  older decision after a newer one. A decision taken while every worker is down waits there.
* Every worker runs a :class:`StatusPusher`. Woken by the NOTIFY (LISTEN on its own connection),
  when its broker link (re)connects, or by its poll every ``poll_s`` (a notification lost while
  its listener reconnected), it claims up to ``batch`` due rows of kiosks not offline ``FOR
  UPDATE SKIP LOCKED`` in one transaction, so no two workers send the same row; publishes each
  signed message (QoS 1) on its kiosk's ``status`` topic; waits for the PUBACKs; deletes the
  accepted rows, gives the others ``attempts + 1`` and a back-off (:func:`backoff_s`), and
  commits. A worker that dies mid-batch holds its rows only until its database connection
  drops; another worker then sends them (the kiosk may get that decision twice and applies the
  same status again).
* A kiosk has no broker session while offline (clean start), so a message then reaches nobody:
  its rows wait while its availability says ``offline`` (and no heartbeat came since) and are
  due at once when its retained ``online`` arrives (a trigger of migration 0005 NOTIFYs then).
  An MQTT 5 PUBACK "no matching subscribers" (a kiosk gone before its last will) counts as not
  sent.
* The kiosk applies it as it applies the reference receiver's (``registration.status`` of that
  record: shown at its status check without asking the portal).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.errors import ProtocolError
from kiosk.uplink.replies import status_message
from kiosk.uplink.topics import Name, device_topic
from portal.ingest.migrate import migrate

log = logging.getLogger("portal.status_push")

CHANNEL = "perlinsos_status_push"
"""The NOTIFY channel that wakes the workers' pushers when a decision is queued."""
BACKOFF_FIRST_S = 2.0
BACKOFF_MAX_S = 600.0
HOLD_MAX_MS = 60_000
"""Longest a pusher's transaction may sit idle holding its claimed rows (PostgreSQL ends it)."""

_QUEUE = """
INSERT INTO status_push (device_id, record_id, status, reason, at) VALUES (%s, %s, %s, %s, %s)
ON CONFLICT (device_id, record_id) DO UPDATE SET status = EXCLUDED.status,
    reason = EXCLUDED.reason, at = EXCLUDED.at, attempts = 0, tried_at = 0, next_at = 0
"""
_KIOSKS = """
FROM status_push p
LEFT JOIN availability a ON a.device_id = p.device_id
LEFT JOIN heartbeat h ON h.device_id = p.device_id
"""
_AWAY = "COALESCE(a.state = 'offline' AND (h.received_at IS NULL OR h.received_at <= a.at), false)"
"""Its kiosk is offline: its last will (or clean goodbye) is newer than its last heartbeat (a
late last will from a failed cluster node after the kiosk came back elsewhere is outlived by
the kiosk's next heartbeat)."""
_CLAIM = f"""
SELECT p.device_id, p.record_id, p.status, p.reason, p.at, p.attempts {_KIOSKS}
WHERE NOT {_AWAY} AND (p.next_at <= %(now)s OR a.at > p.tried_at)
ORDER BY p.next_at, p.at LIMIT %(limit)s
FOR UPDATE OF p SKIP LOCKED
"""
_DONE = """
DELETE FROM status_push WHERE (device_id, record_id) IN
    (SELECT * FROM unnest(%s::text[], %s::text[]))
"""
_RETRY = """
UPDATE status_push p SET attempts = p.attempts + 1, tried_at = %s, next_at = u.n
FROM unnest(%s::text[], %s::text[], %s::float8[]) AS u(d, r, n)
WHERE p.device_id = u.d AND p.record_id = u.r
"""


def queue(
    conn: psycopg.Connection[Any],
    device_id: str,
    record_id: str,
    status: str,
    reason: str | None,
    at: float,
) -> None:
    """Queue the push of a decision taken at ``at``, in the caller's transaction (the workers
    are notified at its commit)."""
    conn.execute(_QUEUE, (device_id, record_id, status, reason, at))
    conn.execute("SELECT pg_notify(%s, '')", (CHANNEL,))


def pending(dsn: str, now: float) -> list[tuple[str, str, str, int, str]]:
    """(device id, record id, status, failed attempts, what it waits for) of every decision not
    yet delivered, oldest first: ``kiosk offline``, ``retry in N s`` or ``due``."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            f"SELECT p.device_id, p.record_id, p.status, p.attempts, {_AWAY}, p.next_at"
            f" {_KIOSKS} ORDER BY p.at, p.device_id, p.record_id"
        ).fetchall()
    out = []
    for device_id, record_id, status, attempts, away, next_at in rows:
        if away:
            why = "kiosk offline"
        elif next_at > now:
            why = f"retry in {next_at - now:.0f} s"
        else:
            why = "due"
        out.append((device_id, record_id, status, int(attempts), why))
    return out


def backoff_s(attempts: int) -> float:
    """Seconds before a push that failed ``attempts`` times before is tried again."""
    return min(BACKOFF_FIRST_S * 2.0 ** min(attempts, 20), BACKOFF_MAX_S)


class PushLink(Protocol):
    """What the pusher needs of the worker's broker link (portal.link.PortalLink)."""

    connected: threading.Event

    def publish(
        self, topic: str, payload: bytes, *, correlation: bytes | None = None, retain: bool = False
    ) -> Any:
        """QoS 1 publish; a handle for :meth:`puback`, or None when the link is stopping."""
        ...

    def puback(self, sent: Any, timeout_s: float) -> bool | None:
        """True accepted, False refused, None no PUBACK within ``timeout_s``."""
        ...


@dataclass
class PushCounts:
    """What one pusher has done so far."""

    published: int = 0  # messages handed to the broker
    sent: int = 0  # accepted by the broker's PUBACK (their rows deleted)
    retried: int = 0  # no PUBACK in time, or refused: kept for a later try
    unsendable: int = 0  # the ``status`` schema refuses the row (logged and dropped)


class StatusPusher:
    """Sends the queued decisions through one worker's broker link (its own two database
    connections: one claims and deletes, one LISTENs)."""

    def __init__(
        self,
        dsn: str,
        link: PushLink,
        signing_key: Ed25519PrivateKey,
        *,
        prefix: str = "perlinsos/v1",
        batch: int = 100,
        poll_s: float = 10.0,
        ack_timeout_s: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._dsn = dsn
        self._link = link
        self._key = signing_key
        self._prefix = prefix
        self._batch = batch
        self._poll_s = poll_s
        self._ack_timeout_s = ack_timeout_s
        self._clock = clock
        self._conn: psycopg.Connection[Any] | None = None
        self._listener: psycopg.Connection[Any] | None = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.counts = PushCounts()

    # --- lifecycle --------------------------------------------------------------------
    def start(self) -> None:
        """Start the push thread (it sends what is due as soon as the link is connected)."""
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="status-push", daemon=True)
        self._thread.start()

    def stop(self, join_s: float = 30.0) -> None:
        """Finish the batch in hand (rows without a PUBACK stay queued) and close."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(join_s)
            self._thread = None
        self._close()

    # --- sending ------------------------------------------------------------------------
    def drain(self) -> int:
        """Send every due decision, batch after batch, while the link is connected; the
        number the broker accepted."""
        accepted = 0
        while not self._stopping.is_set() and self._link.connected.is_set():
            claimed, ok, deferred = self._send_batch()
            accepted += ok
            if claimed < self._batch or deferred:  # all sent, or the broker is struggling
                break
        return accepted

    def _send_batch(self) -> tuple[int, int, int]:
        """One transaction: claim, publish, wait for the PUBACKs, delete or defer; (claimed,
        accepted, deferred)."""
        conn = self._db()
        now = self._clock()
        with conn.transaction():
            rows = conn.execute(_CLAIM, {"now": now, "limit": self._batch}).fetchall()
            done: list[tuple[str, str]] = []
            waiting: list[tuple[str, str, int, Any]] = []
            for device_id, record_id, status, reason, at, attempts in rows:
                try:
                    payload = status_message(
                        device_id, record_id, status, reason, float(at), self._key
                    )
                except (ProtocolError, ValueError) as err:
                    log.error("status push %s/%s cannot be sent: %s", device_id, record_id, err)
                    self.counts.unsendable += 1
                    done.append((device_id, record_id))
                    continue
                sent = self._link.publish(
                    device_topic(self._prefix, device_id, Name.STATUS), payload
                )
                if sent is None:  # the link is stopping: left due, for the next worker
                    continue
                self.counts.published += 1
                waiting.append((device_id, record_id, int(attempts), sent))
            deadline = time.monotonic() + self._ack_timeout_s
            retry: list[tuple[str, str, float]] = []
            accepted = 0
            for device_id, record_id, attempts, sent in waiting:
                if self._link.puback(sent, max(0.0, deadline - time.monotonic())):
                    done.append((device_id, record_id))
                    accepted += 1
                else:
                    retry.append((device_id, record_id, now + backoff_s(attempts)))
            if done:
                conn.execute(_DONE, ([d for d, _ in done], [r for _, r in done]))
            if retry:
                conn.execute(_RETRY, [now, *(list(col) for col in zip(*retry, strict=True))])
                log.warning("status push: %d without the broker's PUBACK, retried", len(retry))
        self.counts.sent += accepted
        self.counts.retried += len(retry)
        return len(rows), accepted, len(retry)

    # --- the thread ---------------------------------------------------------------------
    def _run(self) -> None:
        delay = 1.0
        while not self._stopping.is_set():
            try:
                self._listen()
                self.drain()
                delay = 1.0
                self._wait(self._poll_s)
            except psycopg.Error as err:  # the database restarted or is unreachable
                log.warning("status push: database error (%s); again in %.0f s", err, delay)
                self._close()
                self._stopping.wait(delay)
                delay = min(delay * 2.0, 30.0)
            except Exception:  # a bug must not end the worker's pushes for good
                log.exception("status push failed; again in %.0f s", delay)
                self._stopping.wait(delay)
                delay = min(delay * 2.0, 30.0)

    def _wait(self, seconds: float) -> None:
        """Until a decision is queued, the link (re)connects, ``seconds`` pass or stop()."""
        listener = self._listen()
        end = time.monotonic() + seconds
        was_connected = self._link.connected.is_set()
        while not self._stopping.is_set():
            left = end - time.monotonic()
            if left <= 0:
                return
            woken = False
            for _note in listener.notifies(timeout=min(0.5, left), stop_after=1):
                woken = True
            if woken:
                for _note in listener.notifies(timeout=0):  # one drain serves them all
                    pass
                return
            if not was_connected and self._link.connected.is_set():
                return

    def _db(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed or self._conn.broken:
            self._conn = psycopg.connect(self._dsn, autocommit=True)
            migrate(self._conn)
            # a worker hung mid-batch (not dead: its connection stays up) frees its rows too
            self._conn.execute(f"SET idle_in_transaction_session_timeout = {HOLD_MAX_MS}")
        return self._conn

    def _listen(self) -> psycopg.Connection[Any]:
        if self._listener is None or self._listener.closed or self._listener.broken:
            self._listener = psycopg.connect(self._dsn, autocommit=True)
            self._listener.execute(f"LISTEN {CHANNEL}")
        return self._listener

    def _close(self) -> None:
        for conn in (self._conn, self._listener):
            if conn is not None:
                with contextlib.suppress(psycopg.Error):
                    conn.close()
        self._conn = self._listener = None
