"""Status from the portal: a sealed query by NIK digest + receipt code, a signed answer, a
bounded wait.

The kiosk publishes a ``status_request`` (sealed to the portal's key, signed by the device,
MQTT 5 Response Topic + Correlation Data = request id) holding :func:`nik_digest` of the NIK,
never the NIK, and the receipt code. The portal answers on this kiosk's ``status_reply`` topic,
signed like every reply (:func:`kiosk.uplink.replies.open_reply`: trusted key, schema, kind,
device). The kiosk waits at most ``timeout_s``; no link, no answer in time, a refused or forged
answer all mean *no answer*, and the status check shows the kiosk's own record instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from kiosk.core.names import Name
from kiosk.core.portal_status import PortalObjection, PortalRegistration, PortalStatus
from kiosk.uplink.inbound import Reply
from kiosk.uplink.pending import DeviceQuery

log = logging.getLogger(__name__)


KIND = Name.STATUS_REQUEST
"""Envelope kind (and UP topic name) of a status query; the answer comes on ``status_reply``."""


def parse_status(data: dict[str, Any]) -> PortalStatus:
    """The typed answer of an opened, schema-valid ``status_reply``."""
    regs = tuple(
        PortalRegistration(
            r["registration_id"],
            r["record_id"],
            int(r["version"]),
            r["receipt_no"],
            r.get("verification"),
            r["status"],
            r.get("reason"),
            float(r["received_at"]),
            None if r.get("decided_at") is None else float(r["decided_at"]),
        )
        for r in data["registrations"]
    )
    objections = tuple(
        PortalObjection(
            o["objection_id"],
            o["registration_id"],
            o["reason_code"],
            o["state"],
            o.get("reason"),
            float(o["filed_at"]),
            None if o.get("state_at") is None else float(o["state_at"]),
        )
        for o in data["objections"]
    )
    return PortalStatus(data["result"], float(data["at"]), regs, objections)


class PortalStatusQuery(DeviceQuery[PortalStatus]):
    """Sends status queries and matches the signed answers to them (one waiter per query)."""

    KIND = KIND
    TIMEOUT_S = 4.0

    def ask(self, digest: str, receipt_no: str) -> PortalStatus | None:
        """Ask the portal; its answer, or None (offline, timed out, refused or forged)."""
        return self._ask({"nik_digest": digest, "receipt_no": receipt_no})

    def deliver(self, reply: Reply) -> bool:
        """Hand over a verified ``status_reply`` (uplink thread); True if it answered a query.

        The uplink has checked it (bounds, trusted signature, schema, kind, this device:
        :func:`kiosk.uplink.replies.open_reply`); under MQTT 5 its Correlation Data must also
        name the request it answers."""
        data = reply.body
        if not self._correlated(reply.correlated):
            return False
        answer = None if data["result"] == "refused" else parse_status(data)
        if not self.requests.deliver(data["request_id"], answer):
            return False
        if answer is None:
            log.warning("the portal refused a status query: the kiosk's record is shown")
        return True


def attach(uplink: Any, query: PortalStatusQuery) -> None:
    """Route this kiosk's verified ``status_reply`` messages to ``query`` (relay thread)."""
    on_reply: Callable[[str, Callable[[Reply], object]], None] = uplink.on_reply
    on_reply(Name.STATUS_REPLY, query.deliver)
