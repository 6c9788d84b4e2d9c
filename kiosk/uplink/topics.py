"""The topic table: every topic a kiosk uses, its direction, retention and schema."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Direction(enum.Enum):
    """Who publishes on a topic."""

    UP = "kiosk->portal"
    DOWN = "portal->kiosk"


@dataclass(frozen=True)
class Topic:
    """One per-device topic: ``<prefix>/kiosk/<device_id>/<name>``."""

    name: str
    direction: Direction
    retained: bool
    schema: str | None  # schema file stem in kiosk/uplink/schemas, None = sealed envelope/text
    doc: str
    max_bytes: int = 256 * 1024  # inbound: larger payloads are refused unparsed


TOPICS: dict[str, Topic] = {
    t.name: t
    for t in (
        Topic("registration", Direction.UP, False, None, "sealed registration envelope"),
        Topic("audit", Direction.UP, False, None, "sealed audit envelope"),
        Topic("vouch", Direction.UP, False, None, "sealed agent vouch envelope (portal review)"),
        Topic("household", Direction.UP, False, None, "sealed Dasa Wisma household edit"),
        Topic("heartbeat", Direction.UP, False, "heartbeat", "device health, every heartbeat_s"),
        Topic("availability", Direction.UP, True, None, "'online' / 'offline' (last will)"),
        Topic("ack", Direction.DOWN, False, "ack", "application ack of one record"),
        Topic("status", Direction.DOWN, False, "status", "portal decision on one record"),
        Topic("config", Direction.DOWN, True, "config", "remote settings"),
        Topic("roster", Direction.DOWN, True, "roster", "agents allowed on this kiosk"),
        # identity references (kiosk/references): signed by the portal, validated there
        Topic("verify_request", Direction.UP, False, None, "sealed online verify request"),
        Topic("verify_reply", Direction.DOWN, False, "verify_reply", "signed verify answer"),
        Topic(
            "references",
            Direction.DOWN,
            True,
            "references",
            "signed village reference set",
            16 * 1024 * 1024,
        ),
        Topic("references_revoke", Direction.DOWN, True, "references_revoke", "signed revoke"),
        # Dasa Wisma rosters (kiosk/agents): signed by the portal, validated there
        Topic("household_update", Direction.DOWN, False, "household_update", "signed household"),
        # the village's recipients and what villagers say about them (kiosk/reports)
        Topic(
            "recipients",
            Direction.DOWN,
            True,
            "recipients",
            "signed village recipient list (names, dusun/RT)",
            4 * 1024 * 1024,
        ),
        Topic("recipient_report", Direction.UP, False, None, "sealed report: listed not eligible"),
        Topic("proposal", Direction.UP, False, None, "sealed proposal (usulan) of a household"),
    )
}
"""Every topic; outbox kinds map to the UP topic of the same name."""

RECORD_KINDS = frozenset(
    {"registration", "audit", "vouch", "household", "recipient_report", "proposal"}
)
"""Outbox kinds that travel as sealed envelopes."""


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


def uplink_filters(prefix: str) -> list[str]:
    """Wildcard subscriptions of the portal (all devices, all UP topics)."""
    return [f"{prefix}/kiosk/+/{t.name}" for t in TOPICS.values() if t.direction is Direction.UP]


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
