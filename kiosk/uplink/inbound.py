"""Messages from the portal: a table of topic -> schema -> typed message, then dispatch."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kiosk.crypto.signed import RejectedMessage
from kiosk.uplink import messages
from kiosk.uplink.client import Inbound
from kiosk.uplink.replies import Trusted, open_reply
from kiosk.uplink.topics import SIGNED_TOPICS, TOPICS, Direction, Name, parse_topic

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Ack:
    """The portal holds a record (stored or duplicate) or refused it for good (rejected)."""

    record_id: str
    result: str
    reason: str | None


@dataclass(frozen=True)
class StatusUpdate:
    """The portal's decision on a record, for the villager's status check."""

    record_id: str
    status: str
    reason: str | None
    at: float


@dataclass(frozen=True)
class ConfigUpdate:
    """Validated remote settings."""

    version: int
    settings: dict[str, Any]


@dataclass(frozen=True)
class RosterUpdate:
    """Validated agent roster."""

    version: int
    agents: list[dict[str, Any]]


@dataclass(frozen=True)
class SignedMessage:
    """A portal-signed message passed on raw; its handler (kiosk.references) validates it."""

    name: str
    payload: bytes
    correlation: bytes | None


@dataclass(frozen=True)
class Acks:
    """One signed ack message: the portal's answers for a batch of this kiosk's records."""

    items: tuple[Ack, ...]


@dataclass(frozen=True)
class Reply:
    """The portal's signed answer to a request of this kiosk (a status or family card query;
    verified, ``body["kind"]`` names its topic; matched to the request waiting for it by
    kiosk/uplink/status_query.py or family_query.py)."""

    body: dict[str, Any]
    correlation: bytes | None

    @property
    def correlated(self) -> bool:
        """False when MQTT 5 Correlation Data names another request than the signed body."""
        return self.correlation is None or self.correlation == self.body["request_id"].encode()


PortalMessage = Acks | StatusUpdate | ConfigUpdate | RosterUpdate | SignedMessage | Reply


def _ack(d: dict[str, Any], corr: bytes | None) -> Acks:
    items = tuple(Ack(e["record_id"], e["result"], e.get("reason")) for e in d["acks"])
    if corr is not None and (len(items) != 1 or corr != items[0].record_id.encode()):
        raise RejectedMessage("correlation", "ack correlation data does not match its record id")
    return Acks(items)


def _status(d: dict[str, Any], _corr: bytes | None) -> StatusUpdate:
    return StatusUpdate(d["record_id"], d["status"], d.get("reason"), float(d["at"]))


def _config(d: dict[str, Any], _corr: bytes | None) -> ConfigUpdate:
    return ConfigUpdate(int(d["config_version"]), dict(d["settings"]))


def _roster(d: dict[str, Any], _corr: bytes | None) -> RosterUpdate:
    return RosterUpdate(int(d["roster_version"]), list(d["agents"]))


DECODERS: dict[str, Callable[[dict[str, Any], bytes | None], PortalMessage]] = {
    Name.ACK: _ack,
    Name.STATUS: _status,
    Name.CONFIG: _config,
    Name.ROSTER: _roster,
    Name.STATUS_REPLY: Reply,
    Name.KK_REPLY: Reply,
}
"""Topic name -> builder of the typed message (after schema validation)."""


def decode(prefix: str, device_id: str, msg: Inbound, trusted: Trusted) -> PortalMessage:
    """Check one inbound MQTT message; raise :class:`RejectedMessage` with a reason code.

    Nothing is parsed before the size and nesting bounds are checked; ack, status, config and
    roster must be signed by a key in ``trusted()`` for this device and topic.
    """
    parsed = parse_topic(prefix, msg.topic)
    if parsed is None or parsed[0] != device_id:
        raise RejectedMessage(
            "not_ours", f"message on a topic that is not ours: {msg.topic[:120]!r}"
        )
    name = parsed[1]
    topic = TOPICS[name]
    if topic.direction is not Direction.DOWN:
        raise RejectedMessage("not_ours", f"kiosk does not accept messages on {name!r}")
    messages.precheck(name, msg.payload, topic.max_bytes)
    if name in SIGNED_TOPICS:
        return SignedMessage(name, msg.payload, msg.correlation)
    if name not in DECODERS:
        raise RejectedMessage("not_ours", f"kiosk does not accept messages on {name!r}")
    return DECODERS[name](open_reply(name, device_id, msg.payload, trusted), msg.correlation)


class VersionGate:
    """Accept config/roster only when newer than the last one applied (no rollback/replay)."""

    def __init__(self) -> None:
        self._seen: dict[type, int] = {}

    def admit(self, msg: ConfigUpdate | RosterUpdate) -> bool:
        """True (and remember) when ``msg`` is newer than the last of its type."""
        last = self._seen.get(type(msg), 0)
        if msg.version <= last:
            log.warning(
                "%s version %d ignored: version %d already applied",
                type(msg).__name__,
                msg.version,
                last,
            )
            return False
        self._seen[type(msg)] = msg.version
        return True
