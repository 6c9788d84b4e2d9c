"""The topic table: every topic a kiosk uses, its direction, retention, schema and signing.

Every other module names a topic through :class:`Name` (``kiosk.core.names``; never by
spelling it) and takes a
topic's behaviour from its row; record kinds (:data:`RECORD_KINDS`) are rows too, each carrying
what an ack of that kind does beside the outbox row.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from kiosk.core.names import Name
from kiosk.store.outbox import AckEffect
from kiosk.store.registrations import registrations_received


class Direction(enum.Enum):
    """Who publishes on a topic."""

    UP = "kiosk->portal"
    DOWN = "portal->kiosk"


class Signing(enum.Enum):
    """How a portal -> kiosk message proves it came from the portal."""

    NONE = "none"  # kiosk -> portal: sealed envelopes or plain health data
    REPLY = "reply"  # generic signed reply, checked before decoding (kiosk/uplink/replies.py)
    HANDLER = "handler"  # schema + signature checked by the topic's handler (may be large)


@dataclass(frozen=True)
class Topic:
    """One per-device topic: ``<prefix>/kiosk/<device_id>/<name>``."""

    name: Name
    direction: Direction
    retained: bool
    schema: str | None  # schema file stem in kiosk/uplink/schemas, None = sealed envelope/text
    doc: str
    max_bytes: int = 256 * 1024  # inbound: larger payloads are refused unparsed
    signing: Signing = Signing.NONE


_UP, _DOWN = Direction.UP, Direction.DOWN
_R, _H = Signing.REPLY, Signing.HANDLER

TOPICS: dict[str, Topic] = {
    t.name: t
    for t in (
        Topic(Name.REGISTRATION, _UP, False, None, "sealed registration envelope"),
        Topic(Name.AUDIT, _UP, False, None, "sealed audit envelope"),
        Topic(Name.VOUCH, _UP, False, None, "sealed agent vouch envelope (portal review)"),
        Topic(Name.HOUSEHOLD, _UP, False, None, "sealed Dasa Wisma household edit"),
        Topic(Name.HEARTBEAT, _UP, False, "heartbeat", "device health, every heartbeat_s"),
        Topic(Name.AVAILABILITY, _UP, True, None, "'online' / 'offline' (last will)"),
        Topic(Name.ACK, _DOWN, False, "ack", "application ack of one record", signing=_R),
        Topic(Name.STATUS, _DOWN, False, "status", "portal decision on one record", signing=_R),
        Topic(Name.CONFIG, _DOWN, True, "config", "remote settings", signing=_R),
        Topic(Name.ROSTER, _DOWN, True, "roster", "agents allowed on this kiosk", signing=_R),
        # identity references (kiosk/references): signed by the portal, validated there
        Topic(Name.VERIFY_REQUEST, _UP, False, None, "sealed online verify request"),
        Topic(Name.VERIFY_REPLY, _DOWN, False, "verify_reply", "signed verify answer", signing=_H),
        Topic(
            Name.REFERENCES,
            _DOWN,
            True,
            "references",
            "signed village reference set",
            16 * 1024 * 1024,
            signing=_H,
        ),
        Topic(
            Name.REFERENCES_REVOKE,
            _DOWN,
            True,
            "references_revoke",
            "signed revoke",
            signing=_H,
        ),
        # Dasa Wisma rosters (kiosk/agents): signed by the portal, validated there
        Topic(
            Name.HOUSEHOLD_UPDATE,
            _DOWN,
            False,
            "household_update",
            "signed household",
            signing=_H,
        ),
        # the village's recipients and what villagers say about them (kiosk/reports)
        Topic(
            Name.RECIPIENTS,
            _DOWN,
            True,
            "recipients",
            "signed village recipient list (names, dusun/RT)",
            4 * 1024 * 1024,
            signing=_H,
        ),
        Topic(Name.RECIPIENT_REPORT, _UP, False, None, "sealed report: listed not eligible"),
        Topic(Name.PROPOSAL, _UP, False, None, "sealed proposal (usulan) of a household"),
        # status from the portal and objections (kiosk/uplink/status_query.py, services)
        Topic(Name.STATUS_REQUEST, _UP, False, None, "sealed status query (NIK digest)"),
        Topic(Name.STATUS_REPLY, _DOWN, False, "status_reply", "signed status answer", signing=_R),
        Topic(Name.OBJECTION, _UP, False, None, "sealed objection (sanggah) to a decision"),
        # a family card registered at another kiosk (kiosk/uplink/family_query.py)
        Topic(Name.KK_REQUEST, _UP, False, None, "sealed family card query (KK digest)"),
        Topic(Name.KK_REPLY, _DOWN, False, "kk_reply", "signed family card answer", signing=_R),
    )
}
"""Every topic; outbox kinds map to the UP topic of the same name."""


@dataclass(frozen=True)
class RecordKind:
    """One kind of sealed record that goes through the outbox on the UP topic of its name."""

    name: Name
    on_ack: AckEffect | None = None  # the owner's effect once the portal holds the record


RECORD_KINDS: dict[str, RecordKind] = {
    k.name: k
    for k in (
        RecordKind(Name.REGISTRATION, registrations_received),
        RecordKind(Name.AUDIT),
        RecordKind(Name.VOUCH),
        RecordKind(Name.HOUSEHOLD),
        RecordKind(Name.RECIPIENT_REPORT),
        RecordKind(Name.PROPOSAL),
        RecordKind(Name.OBJECTION),  # its state comes with the status answers, not the ack
    )
}
"""Outbox kinds that travel as sealed envelopes, with what an ack of each does."""

ACK_EFFECTS: dict[str, AckEffect] = {
    k.name: k.on_ack for k in RECORD_KINDS.values() if k.on_ack is not None
}
"""Record kind -> its owner's ack effect (passed to ``OutboxRepository.mark_acked``)."""

SIGNED_REPLIES = frozenset(t.name for t in TOPICS.values() if t.signing is Signing.REPLY)
"""Portal -> kiosk topics whose messages carry the generic signed-reply fields."""

SIGNED_TOPICS = frozenset(t.name for t in TOPICS.values() if t.signing is Signing.HANDLER)
"""Topics whose schema, version and Ed25519 signature are checked by their handler (the
reference set may exceed ``messages.MAX_MESSAGE_BYTES``); see kiosk/references/message.py."""


def device_topic(prefix: str, device_id: str, name: str) -> str:
    """Full topic for ``name`` of ``device_id`` under ``prefix`` (e.g. perlinsos/v1)."""
    if name not in TOPICS:
        raise KeyError(f"unknown topic {name!r}")
    return f"{prefix}/kiosk/{device_id}/{name}"


def parse_topic(prefix: str, topic: str) -> tuple[str, str] | None:
    """(device_id, name) for a topic of ours, or None for anything else."""
    head = f"{prefix}/kiosk/"
    if not topic.startswith(head):
        return None
    parts = topic[len(head) :].split("/")
    if len(parts) != 2 or not parts[0] or parts[1] not in TOPICS:
        return None
    return parts[0], parts[1]


def downlink_filters(prefix: str, device_id: str) -> list[str]:
    """Topic names a kiosk subscribes to."""
    return [
        device_topic(prefix, device_id, t.name)
        for t in TOPICS.values()
        if t.direction is Direction.DOWN
    ]


def broker_acl(prefix: str, portal_user: str = "portal") -> str:
    """Mosquitto ACL for ``prefix``: each kiosk writes only its UP and reads only its DOWN topics.

    ``%u`` is the client certificate's CN (``use_identity_as_username true``), i.e. the device
    id. A kiosk can then neither answer itself (publish its own ``ack`` or ``roster``) nor
    read what it sent; only ``portal_user`` reaches every device's topics.
    """
    lines = [
        f"user {portal_user}",
        f"topic readwrite {prefix}/kiosk/#",
        "",
    ]
    for t in TOPICS.values():
        access = "write" if t.direction is Direction.UP else "read"
        lines.append(f"pattern {access} {prefix}/kiosk/%u/{t.name}")
    return "\n".join(lines) + "\n"
