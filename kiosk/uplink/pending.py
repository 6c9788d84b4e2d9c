"""Requests waiting for their reply: one slot per request id, a bounded wait, delivery from the
uplink thread.

A request/reply over MQTT (status query, online verification, ...) checks its record against
the kind's schema, seals it, registers a slot under its request id *before* publishing (a fast
reply must find it), waits for the reply at most ``timeout_s`` seconds of the injected clock's
monotonic time, and always removes its slot again, so a late reply finds nothing and is
dropped. The reply handler, on the uplink thread, opens and checks the reply and hands the
answer to :meth:`PendingRequests.deliver`.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

from kiosk.core.clock import Clock
from kiosk.core.ids import uuid7
from kiosk.errors import KioskError
from kiosk.services.ports import Sealer
from kiosk.uplink import messages

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


class RequestTransport(Protocol):
    """What a request/reply needs from the uplink."""

    @property
    def online(self) -> bool:
        """True while the broker connection is up."""
        ...

    def publish_request(self, kind: str, request_id: str, payload: bytes) -> bool:
        """Publish a sealed request with Response Topic + Correlation Data; False if not sent."""
        ...


class PendingRequests(Generic[T]):
    """The sealed requests of one kind that wait for their reply, keyed by request id."""

    def __init__(
        self,
        kind: str,
        transport: RequestTransport,
        sealer: Sealer,
        *,
        clock: Clock,
        timeout_s: float,
        wait: Waiter = event_wait,
    ) -> None:
        if not timeout_s > 0:
            raise ValueError("timeout_s must be positive (seconds)")
        self.kind = kind
        self.timeout_s = timeout_s
        self._transport = transport
        self._sealer = sealer
        self._clock = clock
        self._wait = wait
        self._lock = threading.Lock()
        self._slots: dict[str, _Slot[T]] = {}

    def __len__(self) -> int:
        """How many requests wait now."""
        with self._lock:
            return len(self._slots)

    @property
    def available(self) -> bool:
        """True when a request could be sent now (the link is up)."""
        return bool(self._transport.online)

    def new_id(self) -> str:
        """A fresh request id (UUIDv7 on the injected clock)."""
        return uuid7(self._clock.now(), os.urandom(10))

    def ask(self, record: dict[str, Any]) -> T | None:
        """Seal and publish ``record``, wait at most ``timeout_s``; the answer or None.

        ``record`` follows the kind's schema and carries its ``request_id``. None when the
        publish fails (False or a :class:`KioskError`), when no reply comes in time, or when the
        reply delivered None (e.g. refused). The slot is gone when this returns."""
        messages.check(self.kind, record)
        request_id: str = record["request_id"]
        payload = self._sealer.seal(self.kind, request_id, record)
        slot: _Slot[T] = _Slot()
        with self._lock:
            self._slots[request_id] = slot
        try:
            try:
                sent = self._transport.publish_request(self.kind, request_id, payload)
            except KioskError as err:
                log.warning("%s not sent: %s", self.kind, err)
                return None
            if not sent:
                return None
            deadline = self._clock.monotonic() + self.timeout_s
            while not slot.event.is_set():
                left = deadline - self._clock.monotonic()
                if left <= 0:
                    log.info("no answer to %s within %.1f s", self.kind, self.timeout_s)
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
                log.info("reply to a %s no longer waited for; ignored", self.kind)
                return False
            slot.answer = answer
            slot.event.set()
        return True


class DeviceQuery(Generic[T]):
    """A query of this device to the portal (status, family card): its pending requests of
    ``KIND``, waited for ``TIMEOUT_S`` at most, and the fields every request record carries
    (``v``, ``request_id``, ``device_id``, ``requested_at``)."""

    KIND: str
    TIMEOUT_S: float

    def __init__(
        self,
        transport: RequestTransport,
        sealer: Sealer,
        *,
        device_id: str,
        clock: Clock,
        timeout_s: float | None = None,
        wait: Waiter = event_wait,
    ) -> None:
        self._device_id = device_id
        self._clock = clock
        self.requests: PendingRequests[T] = PendingRequests(
            self.KIND,
            transport,
            sealer,
            clock=clock,
            timeout_s=self.TIMEOUT_S if timeout_s is None else timeout_s,
            wait=wait,
        )
        self.rejected: dict[str, int] = {}

    @property
    def available(self) -> bool:
        """True when a query could be sent now (the link is up)."""
        return self.requests.available

    def _ask(self, fields: dict[str, Any]) -> T | None:
        """Send a request with ``fields``; the answer, or None (offline, timed out, refused)."""
        if not self.available:
            return None
        record = {"v": 1, "request_id": self.requests.new_id(), "device_id": self._device_id}
        return self.requests.ask({**record, **fields, "requested_at": self._clock.now()})

    def _correlated(self, correlated: bool) -> bool:
        """False (counted, logged) when MQTT 5 Correlation Data names another request."""
        if not correlated:
            self.rejected["correlation"] = self.rejected.get("correlation", 0) + 1
            log.warning("%s reply refused (correlation)", self.KIND)
        return correlated
