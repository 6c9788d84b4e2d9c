"""Outbox rules, pure: states, retry back-off, and what a broker refusal means."""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass


class OutboxState(enum.StrEnum):
    """Life of one outbox row."""

    PENDING = "pending"  # waiting to be published
    SENT = "sent"  # published, waiting for the portal's application ack
    ACKED = "acked"  # the portal holds it; purged after the retention period
    DEAD = "dead"  # refused for good; needs a person (alert raised)


class Verdict(enum.Enum):
    """What to do with a record after a failure."""

    RETRY = "retry"
    DEAD = "dead"


REFUSAL_THRESHOLD = 0x80
"""MQTT 5 reason codes at or above this are refusals by the broker (e.g. 0x87 not authorised)."""


def classify_reason_code(reason_code: int) -> Verdict:
    """Broker refusal (MQTT 5 reason code >= 0x80) -> DEAD; success codes never get here."""
    return Verdict.DEAD if reason_code >= REFUSAL_THRESHOLD else Verdict.RETRY


@dataclass(frozen=True)
class Backoff:
    """Exponential back-off with full jitter and a cap (seconds)."""

    initial_s: float = 1.0
    cap_s: float = 300.0
    factor: float = 2.0

    def __post_init__(self) -> None:
        if not 0 < self.initial_s <= self.cap_s:
            raise ValueError("back-off needs 0 < initial_s <= cap_s")
        if self.factor < 1:
            raise ValueError("back-off factor must be >= 1")

    def next_delay(self, attempt: int, rng: random.Random) -> float:
        """Delay before retry number ``attempt`` (1 = first retry), seconds.

        Uniform in [ceiling/2, ceiling] where ceiling = min(cap, initial * factor^(attempt-1)):
        spreads kiosks that lost the link together, never waits more than the cap.
        """
        if attempt < 1:
            raise ValueError("attempt counts from 1")
        ceiling = min(self.cap_s, self.initial_s * self.factor ** min(attempt - 1, 64))
        return rng.uniform(ceiling / 2, ceiling)


def next_delay(
    attempt: int, rng: random.Random, initial_s: float = 1.0, cap_s: float = 300.0
) -> float:
    """Convenience: :meth:`Backoff.next_delay` with the given initial delay and cap (seconds)."""
    return Backoff(initial_s, cap_s).next_delay(attempt, rng)
