"""Pure biometric decisions: bands and the step-up challenge."""

from __future__ import annotations

import math

import pytest

from kiosk.core.biometrics import (
    CHALLENGE_COACHING,
    ChallengeKind,
    ChallengeState,
    ChallengeTracker,
    LivenessBand,
    MatchBand,
    liveness_band,
    match_band,
)


@pytest.mark.parametrize(
    ("sim", "band"),
    [
        (0.9, MatchBand.HIGH),
        (0.55, MatchBand.HIGH),
        (0.5, MatchBand.MEDIUM),
        (0.45, MatchBand.MEDIUM),
        (0.4, MatchBand.LOW),
        (0.35, MatchBand.LOW),
        (0.349, MatchBand.NONE),
        (-1.0, MatchBand.NONE),
    ],
)
def test_match_band_edges(sim: float, band: MatchBand) -> None:
    assert match_band(sim, 0.55, 0.45, 0.35) is band


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_match_band_refuses_non_finite(bad: float) -> None:
    with pytest.raises(ValueError, match="finite"):
        match_band(bad, 0.55, 0.45, 0.35)


def test_match_band_refuses_unordered_thresholds() -> None:
    with pytest.raises(ValueError, match="high >= medium >= low"):
        match_band(0.5, 0.3, 0.45, 0.35)


@pytest.mark.parametrize(
    ("score", "band"),
    [
        (0.99, LivenessBand.LIVE),
        (0.8, LivenessBand.LIVE),
        (0.5, LivenessBand.UNCERTAIN),
        (0.3, LivenessBand.UNCERTAIN),
        (0.29, LivenessBand.SPOOF),
    ],
)
def test_liveness_band(score: float, band: LivenessBand) -> None:
    assert liveness_band(score, 0.8, 0.3) is band


def test_liveness_band_refuses_nan_and_bad_thresholds() -> None:
    with pytest.raises(ValueError):
        liveness_band(math.nan, 0.8, 0.3)
    with pytest.raises(ValueError):
        liveness_band(0.5, 0.3, 0.8)


def test_blink_challenge_needs_open_closed_open() -> None:
    c = ChallengeTracker(ChallengeKind.BLINK, started_at=100.0)
    assert c.update(100.1, 0.30, 0.0) is ChallengeState.WAITING
    assert c.update(100.2, 0.12, 0.0) is ChallengeState.WAITING
    assert c.update(100.3, 0.31, 0.0) is ChallengeState.PASSED


def test_blink_challenge_not_fooled_by_static_closed_or_open_eyes() -> None:
    c = ChallengeTracker(ChallengeKind.BLINK, started_at=0.0, timeout_s=5.0)
    for t in range(1, 5):
        assert c.update(float(t), 0.30, 0.0) is ChallengeState.WAITING
    assert c.update(6.0, 0.10, 0.0) is ChallengeState.TIMED_OUT
    assert c.update(6.1, 0.30, 0.0) is ChallengeState.TIMED_OUT  # stays ended


def test_turn_challenges_respect_direction_and_skip_nan() -> None:
    left = ChallengeTracker(ChallengeKind.TURN_LEFT, started_at=0.0)
    assert left.update(1.0, 0.3, -30.0) is ChallengeState.WAITING
    assert left.update(1.5, 0.3, math.nan) is ChallengeState.WAITING
    assert left.update(2.0, 0.3, 25.0) is ChallengeState.PASSED
    right = ChallengeTracker(ChallengeKind.TURN_RIGHT, started_at=0.0)
    assert right.update(1.0, 0.3, -25.0) is ChallengeState.PASSED


def test_every_challenge_has_its_coaching_code() -> None:
    """The words of each code are the UI's (tests/ui/test_languages.py checks every language)."""
    assert set(CHALLENGE_COACHING) == set(ChallengeKind)
