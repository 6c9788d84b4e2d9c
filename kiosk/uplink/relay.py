"""The outbox relay: publish due records, track broker and portal acks, retry or give up.

Single-threaded and clock-injected: the service feeds it link events and calls :meth:`pump`;
tests drive it directly with a fake link and a :class:`FakeClock`.
"""

from __future__ import annotations

import logging
import random
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Protocol

from kiosk.core.clock import Clock
from kiosk.core.outbox import Backoff, Verdict, classify_reason_code
from kiosk.crypto.frame import MAX_RECORDS, TARGET_BYTES
from kiosk.errors import ProtocolError, StoreError
from kiosk.store.outbox import OutboxRepository, OutboxRow
from kiosk.uplink.acks import apply_acks
from kiosk.uplink.client import Connected, Disconnected, Event, Inbound, PubAck
from kiosk.uplink.inbound import Ack, Acks, PortalMessage
from kiosk.uplink.topics import RECORD_KINDS

log = logging.getLogger(__name__)

PURGE_EVERY_S = 3600.0
"""How often acked rows past their retention are deleted, seconds."""

TIMER_FLOOR_S = 0.5
"""Shortest wait for a retry or ack time-out already due but not yet acted on, seconds."""

NO_MATCHING_SUBSCRIBERS = 0x10
"""MQTT 5 PUBACK reason: the broker took the record but no subscriber was there to get it."""


class RecordLink(Protocol):
    """What the relay needs from the MQTT link."""

    def publish_records(self, kind: str, record_ids: list[str], payload: bytes) -> int | None:
        """Publish one signed frame holding ``record_ids``; the message id or None when not
        connected."""
        ...


Framer = Callable[[str, list[bytes]], bytes]
"""Signs a frame of sealed envelopes of one kind (:class:`kiosk.crypto.frame.FrameSigner`)."""


class Relay:
    """Moves outbox rows pending -> sent -> acked (or dead), oldest first, in a bounded window."""

    def __init__(
        self,
        *,
        repo: OutboxRepository,
        link: RecordLink,
        clock: Clock,
        rng: random.Random,
        backoff: Backoff,
        window: int,
        ack_timeout_s: float,
        retention_s: float,
        decode: Callable[[Inbound], PortalMessage],
        frame: Framer,
        frame_records: int = MAX_RECORDS,
        on_acked: Callable[[list[str]], None] = lambda ids: None,
        on_message: Callable[[PortalMessage], None] = lambda msg: None,
        on_alert: Callable[[str, str], None] = lambda rid, why: None,
    ) -> None:
        self._repo = repo
        self._link = link
        self._clock = clock
        self._rng = rng
        self._backoff = backoff
        self._window = window
        self._ack_timeout = ack_timeout_s
        self._retention = retention_s
        self._decode = decode
        self._frame = frame
        self._frame_records = max(1, min(frame_records, MAX_RECORDS))
        self._on_acked = on_acked
        self._on_message = on_message
        self._on_alert = on_alert
        self._mids: dict[int, list[str]] = {}
        self._last_timeout_check = float("-inf")
        self._last_purge = float("-inf")
        self.connected = False
        self.refused: Counter[str] = Counter()
        """Inbound messages refused since start, by reason code (reported in the heartbeat)."""
        self.handler_errors: Counter[str] = Counter()
        """Inbound messages whose handler raised, by topic (logged, never fatal)."""

    @property
    def rejected_inbound(self) -> int:
        """Inbound messages refused since start (malformed, unsigned, forged, not ours)."""
        return sum(self.refused.values())

    def start(self) -> int:
        """Nothing is in flight after a restart: every ``sent`` row goes back to pending."""
        return self._repo.requeue_sent(self._clock.now())

    # --- events -----------------------------------------------------------------------
    def handle(self, events: Iterable[Event]) -> None:
        """Apply link events in order; acks are written to the database in one transaction."""
        acks: list[Ack] = []
        for event in events:
            if isinstance(event, Connected):
                self.connected = True
                self._mids.clear()
                self._repo.requeue_sent(self._clock.now())
            elif isinstance(event, Disconnected):
                self.connected = False
                self._mids.clear()
            elif isinstance(event, PubAck):
                self._puback(event)
            else:
                self._inbound(event, acks)
        if acks:
            outcome = apply_acks(self._repo, acks, self._clock.now())
            for record_id, reason in outcome.dead:
                log.error("outbox record %s is dead: %s", record_id, reason)
                self._on_alert(record_id, reason)
            if outcome.acked:
                self._on_acked(outcome.acked)

    def _puback(self, ev: PubAck) -> None:
        for record_id in self._mids.pop(ev.mid, ()):
            self._puback_record(record_id, ev)

    def _puback_record(self, record_id: str, ev: PubAck) -> None:
        if ev.reason_code == NO_MATCHING_SUBSCRIBERS:
            # Nobody at the portal heard it (e.g. its workers are still resubscribing after a
            # broker restart): try again after a short back-off, not the whole ack timeout.
            state = self._repo.state_of(record_id)
            attempts = state[1] if state is not None else 1
            wait = self._backoff.next_delay(max(1, attempts), self._rng)
            self._repo.retry_later(
                record_id, self._clock.now() + wait, "no portal subscriber on the broker (0x10)"
            )
            return
        if ev.reason_code < 0x80:
            return  # accepted
        if classify_reason_code(ev.reason_code) is Verdict.DEAD:
            self._dead(
                record_id, f"broker refused the record: {ev.reason} (0x{ev.reason_code:02x})"
            )

    def _inbound(self, ev: Inbound, acks: list[Ack]) -> None:
        """Decode and act on one message; nothing it contains can raise out of here."""
        try:
            msg = self._decode(ev)
        except ProtocolError as err:
            reason = getattr(err, "reason", "invalid")
            self.refused[reason] += 1
            log.warning("inbound message refused (%s): %s", reason, str(err)[:200])
            return
        except Exception as err:  # a decoder bug must not stop delivery
            self.refused["decoder_error"] += 1
            log.error("inbound message refused (decoder_error): %s", type(err).__name__)
            return
        try:
            self._act(msg, acks)
        except (StoreError, sqlite3.Error):
            raise  # the outbox itself: the service waits and retries
        except Exception as err:
            name = type(msg).__name__
            self.handler_errors[name] += 1
            log.error("handler for %s failed (handler_error): %s", name, type(err).__name__)

    def _act(self, msg: PortalMessage, acks: list[Ack]) -> None:
        if isinstance(msg, Acks):
            acks.extend(msg.items)  # applied by the one ack rule (kiosk.uplink.acks), in order
            return
        self._on_message(msg)

    def _dead(self, record_id: str, reason: str) -> None:
        if self._repo.mark_dead(record_id, reason):
            log.error("outbox record %s is dead: %s", record_id, reason)
            self._on_alert(record_id, reason)

    # --- publishing -------------------------------------------------------------------
    def pump(self) -> int:
        """Publish due records while the window has room; returns how many were published."""
        if not self.connected:
            return 0
        now = self._clock.now()
        self._housekeeping(now)
        rows = self._repo.next_batch(self._window - self._repo.inflight(), now)
        published: list[str] = []
        for kind, group in self._frames(rows):
            ids = [row.record_id for row in group]
            mid = self._link.publish_records(
                kind, ids, self._frame(kind, [row.payload for row in group])
            )
            if mid is None:  # connection dropped under us: the rest stays pending
                break
            self._mids[mid] = ids
            published.extend(ids)
        if published:
            self._repo.mark_sent(published, now)
        return len(published)

    def _frames(self, rows: list[OutboxRow]) -> list[tuple[str, list[OutboxRow]]]:
        """Due rows, oldest first, cut into frames: one kind each, at most ``frame_records``
        envelopes and about :data:`TARGET_BYTES` (a larger envelope travels alone)."""
        frames: list[tuple[str, list[OutboxRow]]] = []
        size = 0
        for row in rows:
            if row.kind not in RECORD_KINDS:
                self._dead(row.record_id, f"unknown record kind {row.kind!r}")
                continue
            last = frames[-1] if frames else None
            if (
                last is None
                or last[0] != row.kind
                or len(last[1]) >= self._frame_records
                or size + len(row.payload) > TARGET_BYTES
            ):
                frames.append((row.kind, [row]))
                size = len(row.payload)
            else:
                last[1].append(row)
                size += len(row.payload)
        return frames

    def idle_s(self, limit_s: float) -> float:
        """Seconds the service may wait for a link event or a commit before pumping again.

        Commits (``Uplink.notify``) and link events end the wait at once; this only covers the
        relay's timers: the next pending row's retry time (when the window has room) and the
        ack time-out of the oldest sent row, never longer than ``limit_s``.
        """
        if not self.connected:
            return limit_s  # the Connected event wakes the service
        retry_at, oldest_sent = self._repo.timers()
        due: list[float] = []
        if retry_at is not None and self._repo.inflight() < self._window:
            due.append(retry_at)
        if oldest_sent is not None:
            due.append(oldest_sent + self._ack_timeout)
        if not due:
            return limit_s
        return min(limit_s, max(TIMER_FLOOR_S, min(due) - self._clock.now()))

    def _housekeeping(self, now: float) -> None:
        if abs(now - self._last_timeout_check) >= min(self._ack_timeout / 4, 5.0):
            self._last_timeout_check = now
            n = self._repo.requeue_sent(
                now,
                sent_before=now - self._ack_timeout,
                delay=lambda attempts: self._backoff.next_delay(attempts, self._rng),
            )
            if n:
                log.info(
                    "%d record(s) not acknowledged in %.0f s: will resend", n, self._ack_timeout
                )
        if abs(now - self._last_purge) >= PURGE_EVERY_S:
            self._last_purge = now
            self._repo.purge_acked(now - self._retention)
