"""Requests waiting for their reply: one slot per request id, a bounded wait, delivery from the
uplink thread.

A request/reply over MQTT (status query, online verification, ...) registers a slot under its
request id *before* publishing (a fast reply must find it), waits for the reply at most
``timeout_s`` seconds of the injected clock's monotonic time, and always removes its slot again,
so a late reply finds nothing and is dropped. The reply handler, on the uplink thread, hands the
opened answer to :meth:`PendingRequests.deliver`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from kiosk.core.clock import Clock
from kiosk.errors import KioskError

log = logging.getLogger(__name__)

T = TypeVar("T")

Waiter = Callable[[threading.Event, float], bool]
"""Wait on an event at most ``seconds``; True if it was set (``Event.wait`` by default)."""


def event_wait(event: threading.Event, seconds: float) -> bool:
    """Block on ``event`` at most ``seconds`` (the production waiter)."""
    return event.wait(seconds)


class _Slot(Generic[T]):
    """One request's place for its answer."""

    __slots__ = ("answer", "event")

    def __init__(self) -> None:
        self.event = threading.Event()
        self.answer: T | None = None


class PendingRequests(Generic[T]):
    """The requests of one kind that wait for their reply, keyed by request id."""

    def __init__(self, what: str, *, clock: Clock, wait: Waiter = event_wait) -> None:
        self._what = what
        self._clock = clock
        self._wait = wait
        self._lock = threading.Lock()
        self._slots: dict[str, _Slot[T]] = {}

    def __len__(self) -> int:
        """How many requests wait now."""
        with self._lock:
            return len(self._slots)

    def ask(self, request_id: str, send: Callable[[], bool], timeout_s: float) -> T | None:
        """Register ``request_id``, ``send`` it, wait at most ``timeout_s``; the answer or None.

        None when ``send`` fails (False or a :class:`KioskError`), when no reply comes in time,
        or when the reply delivered None (e.g. refused). The slot is gone when this returns."""
        slot: _Slot[T] = _Slot()
        with self._lock:
            self._slots[request_id] = slot
        try:
            try:
                sent = send()
            except KioskError as err:
                log.warning("%s not sent: %s", self._what, err)
                return None
            if not sent:
                return None
            deadline = self._clock.monotonic() + timeout_s
            while not slot.event.is_set():
                left = deadline - self._clock.monotonic()
                if left <= 0:
                    log.info("no %s answer within %.1f s", self._what, timeout_s)
                    return None
                self._wait(slot.event, left)
            return slot.answer
        finally:
            with self._lock:
                self._slots.pop(request_id, None)

    def deliver(self, request_id: str, answer: T | None) -> bool:
        """Hand ``answer`` to the request waiting under ``request_id``; False if none waits."""
        with self._lock:
            slot = self._slots.get(request_id)
            if slot is None or slot.event.is_set():
                log.info("%s reply for a request no longer waited for; ignored", self._what)
                return False
            slot.answer = answer
            slot.event.set()
        return True
