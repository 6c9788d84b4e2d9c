"""The one rule for what a portal acknowledgement does, whether it came by MQTT or on a stick.

``stored`` / ``duplicate``: the portal holds the record, so the outbox row becomes ``acked``
(final) and, in the same transaction, the record kind's own ack effect runs (declared by the
kind's owner in ``kiosk.uplink.topics.RECORD_KINDS``: a registration goes ``waiting ->
received`` and its sealed face template is purged). ``rejected``: the row becomes ``dead``
with the portal's reason (never over an ``acked`` row: an ack wins).
Acks for records this kiosk does not hold change nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from kiosk.store.outbox import OutboxRepository
from kiosk.uplink.inbound import Ack
from kiosk.uplink.topics import ACK_EFFECTS


@dataclass
class AckOutcome:
    """What applying a batch of acks changed."""

    acked: list[str] = field(default_factory=list)
    """Newly acknowledged (template purged, status ``received``)."""
    dead: list[tuple[str, str]] = field(default_factory=list)
    """Newly dead: (record id, reason)."""
    unchanged: list[str] = field(default_factory=list)
    """Known but already in the state the ack asks for (or acked, which is final)."""
    unknown: list[str] = field(default_factory=list)
    """Not in this kiosk's outbox (purged long ago, or never ours)."""


def apply_acks(repo: OutboxRepository, acks: Sequence[Ack], now: float) -> AckOutcome:
    """Apply portal acks to the outbox (wall seconds ``now``); see the module docstring."""
    out = AckOutcome()
    if not acks:
        return out
    known = repo.known([a.record_id for a in acks])
    holds = [a.record_id for a in acks if a.result != "rejected" and a.record_id in known]
    for a in acks:
        if a.record_id not in known:
            out.unknown.append(a.record_id)
        elif a.result == "rejected":
            reason = f"portal rejected the record: {a.reason or '?'}"
            if a.record_id not in holds and repo.mark_dead(a.record_id, reason):
                out.dead.append((a.record_id, reason))
            else:
                out.unchanged.append(a.record_id)
    fresh = set(repo.mark_acked(holds, now, ACK_EFFECTS)) if holds else set()
    out.acked = [r for r in dict.fromkeys(holds) if r in fresh]
    out.unchanged += [r for r in dict.fromkeys(holds) if r not in fresh]
    return out
