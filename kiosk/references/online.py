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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from kiosk.core.clock import Clock
from kiosk.core.names import Name
from kiosk.references.message import RejectedMessage, check_template, parse_verify_reply
from kiosk.services.ports import Sealer
from kiosk.uplink.pending import PendingRequests, RequestTransport, Waiter, event_wait

log = logging.getLogger(__name__)

SOURCE = "online"
"""The decision-policy source name of an online answer."""

KIND = Name.VERIFY_REQUEST
"""Envelope kind (and UP topic name) of a verification request."""


@dataclass(frozen=True)
class OnlineAnswer:
    """The portal's verdict: a match band, or ``match=None`` when it holds no reference."""

    match: str | None
    request_id: str


class OnlineVerifier:
    """Sends verification requests and matches the signed replies to them."""

    def __init__(
        self,
        transport: RequestTransport,
        sealer: Sealer,
        *,
        trusted: Sequence[Ed25519PublicKey] | Callable[[], Sequence[Ed25519PublicKey]],
        device_id: str,
        village_code: str,
        clock: Clock,
        timeout_s: float = 8.0,
        wait: Waiter = event_wait,
    ) -> None:
        self._trusted = trusted
        self._device_id = device_id
        self._village = village_code
        self._clock = clock
        self.requests: PendingRequests[OnlineAnswer] = PendingRequests(
            KIND, transport, sealer, clock=clock, timeout_s=timeout_s, wait=wait
        )
        self.rejected = 0

    @property
    def available(self) -> bool:
        """True when a request could be sent now."""
        return self.requests.available

    def _keys(self) -> Iterable[Ed25519PublicKey]:
        return self._trusted() if callable(self._trusted) else self._trusted

    def verify(self, nik: str, template: bytes, liveness: str, method: str) -> OnlineAnswer | None:
        """Ask the portal; the answer, or None (offline, timed out, or refused)."""
        check_template(template)
        if not self.available:
            return None
        return self.requests.ask(
            {
                "v": 1,
                "request_id": self.requests.new_id(),
                "device_id": self._device_id,
                "village_code": self._village,
                "nik": nik,
                "template": base64.b64encode(template).decode("ascii"),
                "liveness": {"band": liveness, "method": method},
                "requested_at": int(self._clock.now()),
            }
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
        if not self.requests.deliver(reply.request_id, answer):
            return False
        if answer is None:
            log.warning("portal refused a verification request: pending")
        return True
