"""Pure outbox rules: back-off, failure classification."""

from __future__ import annotations

import random

import pytest

from kiosk.core.outbox import (
    Backoff,
    Verdict,
    classify_reason_code,
    next_delay,
)


@pytest.mark.parametrize(
    ("code", "verdict"),
    [(0x10, Verdict.RETRY), (0x7F, Verdict.RETRY), (0x80, Verdict.DEAD), (0x87, Verdict.DEAD)],
)
def test_reason_codes(code: int, verdict: Verdict) -> None:
    assert classify_reason_code(code) is verdict


def test_backoff_grows_with_jitter_and_cap() -> None:
    rng = random.Random(1)
    b = Backoff(initial_s=1.0, cap_s=30.0)
    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (5, 16.0), (6, 30.0), (60, 30.0)]:
        values = {b.next_delay(attempt, rng) for _ in range(50)}
        assert all(ceiling / 2 <= v <= ceiling for v in values)
        assert len(values) > 1  # jittered
    assert 0.5 <= next_delay(1, rng) <= 1.0
    assert next_delay(10_000, rng, 1.0, 300.0) <= 300.0


@pytest.mark.parametrize(
    "kwargs", [{"initial_s": 0}, {"initial_s": 5, "cap_s": 1}, {"factor": 0.5}]
)
def test_backoff_rejects_bad_settings(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Backoff(**kwargs)


def test_attempt_counts_from_one() -> None:
    with pytest.raises(ValueError, match="from 1"):
        Backoff().next_delay(0, random.Random())
