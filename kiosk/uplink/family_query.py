"""Is this No. KK registered at another kiosk? A sealed query by KK digest, a signed answer, a
short bounded wait.

After the No. KK screen, when this kiosk holds no registration of the card, the registration
service asks the portal (``kk_request``: sealed to the portal's key, signed by the device, MQTT 5
Response Topic + Correlation Data = request id) with :func:`kiosk.core.family_card.kk_digest`,
never the No. KK. The portal answers on this kiosk's ``kk_reply`` topic, signed like every reply
(:func:`kiosk.uplink.replies.open_reply`): ``known`` with the registration an update continues,
or ``not_known``. The person is waiting on the screen, so the kiosk waits ``timeout_s`` (3 s) at
most; no link, no answer in time, a refused or forged answer all mean *no answer*: the card was
checked at this kiosk only, and the screens say so.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from kiosk.core.family_card import FamilyAnswer, PortalFamily
from kiosk.core.names import Name
from kiosk.uplink.inbound import Reply
from kiosk.uplink.pending import DeviceQuery

log = logging.getLogger(__name__)

KIND = Name.KK_REQUEST
"""Envelope kind (and UP topic name) of a family card query; the answer comes on ``kk_reply``."""


def parse_family(data: dict[str, Any]) -> FamilyAnswer:
    """The typed answer of an opened, schema-valid ``kk_reply`` that is not ``refused``."""
    reg = data["registration"]
    if data["result"] != "known" or reg is None:
        return FamilyAnswer(None)
    count = reg["members_count"]
    return FamilyAnswer(
        PortalFamily(
            reg["registration_id"],
            int(reg["version"]),
            float(reg["registered_at"]),
            None if count is None else int(count),
        )
    )


class PortalFamilyQuery(DeviceQuery[FamilyAnswer]):
    """Sends family card queries and matches the signed answers to them."""

    KIND = KIND
    TIMEOUT_S = 3.0  # the person waits on the screen

    def ask(self, digest: str) -> FamilyAnswer | None:
        """Ask the portal about the card ``digest``; its answer, or None (offline, timed out,
        refused or forged)."""
        return self._ask({"kk_digest": digest})

    def deliver(self, reply: Reply) -> bool:
        """Hand over a verified ``kk_reply`` (uplink thread); True if it answered a query."""
        if not self._correlated(reply.correlated):
            return False
        data = reply.body
        if data["result"] == "refused":
            log.warning("the portal refused a family card query: checked at this kiosk only")
            return self.requests.deliver(data["request_id"], None)
        return self.requests.deliver(data["request_id"], parse_family(data))


def attach(uplink: Any, query: PortalFamilyQuery) -> None:
    """Route this kiosk's verified ``kk_reply`` messages to ``query`` (relay thread)."""
    on_reply: Callable[[str, Callable[[Reply], object]], None] = uplink.on_reply
    on_reply(Name.KK_REPLY, query.deliver)
