"""Online 1:1 verification against the portal's registry photo, with a bounded wait.

When the link is up and a NIK has no local reference, the kiosk publishes a ``verify_request``:
the live template, the NIK and the liveness evidence, sealed to the portal's key and signed by
the device (a :class:`~kiosk.services.ports.Sealer`), with MQTT 5 Response Topic and
Correlation Data = request id. The portal answers on the kiosk's ``verify_reply`` topic with a
message signed by its Ed25519 key. The kiosk waits at most ``timeout_s`` (injected clock); no
link, no answer in time or a refused answer all mean *no answer*, and the villager is captured
as pending verification instead.
"""

from __future__ import annotations

import base64
import logging
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from kiosk.core.clock import Clock
from kiosk.core.ids import uuid7
from kiosk.references.message import RejectedMessage, check_template, parse_verify_reply
from kiosk.services.ports import Sealer
from kiosk.uplink import messages
from kiosk.uplink.pending import PendingRequests, Waiter, event_wait
from kiosk.uplink.topics import Name

log = logging.getLogger(__name__)

SOURCE = "online"
"""The decision-policy source name of an online answer."""

KIND = Name.VERIFY_REQUEST
"""Envelope kind (and UP topic name) of a verification request."""


class VerifyTransport(Protocol):
    """What the online verifier needs from the uplink."""

    @property
    def online(self) -> bool:
        """True while the broker connection is up."""
        ...

    def publish_request(self, kind: str, request_id: str, payload: bytes) -> bool:
        """Publish a sealed request with Response Topic + Correlation Data; False if not sent."""
        ...


@dataclass(frozen=True)
class OnlineAnswer:
    """The portal's verdict: a match band, or ``match=None`` when it holds no reference."""

    match: str | None
    request_id: str


class OnlineVerifier:
    """Sends verification requests and matches the signed replies to them."""

    def __init__(
        self,
        transport: VerifyTransport,
        sealer: Sealer,
        *,
        trusted: Sequence[Ed25519PublicKey] | Callable[[], Sequence[Ed25519PublicKey]],
        device_id: str,
        village_code: str,
        clock: Clock,
        timeout_s: float = 8.0,
        wait: Waiter = event_wait,
    ) -> None:
        if not timeout_s > 0:
            raise ValueError("timeout_s must be positive (seconds)")
        self._transport = transport
        self._sealer = sealer
        self._trusted = trusted
        self._device_id = device_id
        self._village = village_code
        self._clock = clock
        self.timeout_s = timeout_s
        self._pending: PendingRequests[OnlineAnswer] = PendingRequests(
            "verification", clock=clock, wait=wait
        )
        self.rejected = 0

    @property
    def available(self) -> bool:
        """True when a request could be sent now."""
        return bool(self._transport.online)

    def _keys(self) -> Iterable[Ed25519PublicKey]:
        return self._trusted() if callable(self._trusted) else self._trusted

    def verify(self, nik: str, template: bytes, liveness: str, method: str) -> OnlineAnswer | None:
        """Ask the portal; the answer, or None (offline, timed out, or refused)."""
        check_template(template)
        if not self.available:
            return None
        request_id = uuid7(self._clock.now(), os.urandom(10))
        record = {
            "v": 1,
            "request_id": request_id,
            "device_id": self._device_id,
            "village_code": self._village,
            "nik": nik,
            "template": base64.b64encode(template).decode("ascii"),
            "liveness": {"band": liveness, "method": method},
            "requested_at": int(self._clock.now()),
        }
        messages.check(Name.VERIFY_REQUEST, record)
        payload = self._sealer.seal(KIND, request_id, record)
        return self._pending.ask(
            request_id,
            lambda: self._transport.publish_request(KIND, request_id, payload),
            self.timeout_s,
        )

    def deliver(self, payload: bytes, correlation: bytes | None = None) -> bool:
        """Hand over a ``verify_reply`` message (uplink thread); True if it answered a request."""
        try:
            reply = parse_verify_reply(payload, trusted=self._keys(), device_id=self._device_id)
        except RejectedMessage as err:
            self.rejected += 1
            log.warning("verification reply rejected (%s): %s", err.reason, err)
            return False
        if correlation is not None and correlation != reply.request_id.encode():
            self.rejected += 1
            log.warning("verification reply rejected (correlation): does not match its id")
            return False
        answer = None if reply.result == "refused" else OnlineAnswer(reply.match, reply.request_id)
        if not self._pending.deliver(reply.request_id, answer):
            return False
        if answer is None:
            log.warning("portal refused a verification request: pending")
        return True
