"""The login throttle: five free failures, then a doubling delay with a cap."""

from __future__ import annotations

import pytest

from kiosk.core.throttle import (
    ThrottlePolicy,
    ThrottleState,
    check,
    record_failure,
    record_success,
)

POLICY = ThrottlePolicy(free_failures=5, base_delay_s=30.0, max_delay_s=600.0)


def fail(state: ThrottleState, n: int, at: float) -> ThrottleState:
    for _ in range(n):
        state = record_failure(state, at)
    return state


@pytest.mark.parametrize(
    ("failures", "delay"),
    [(0, 0.0), (4, 0.0), (5, 30.0), (6, 60.0), (7, 120.0), (9, 480.0), (10, 600.0), (200, 600.0)],
)
def test_delay_doubles_after_five_free_failures_up_to_the_cap(failures: int, delay: float) -> None:
    assert POLICY.delay_after(failures) == delay


def test_four_failures_still_allowed() -> None:
    state = fail(ThrottleState(), 4, at=1000.0)
    assert check(state, POLICY, 1000.0).allowed


def test_fifth_failure_locks_for_the_base_delay() -> None:
    state = fail(ThrottleState(), 5, at=1000.0)
    verdict = check(state, POLICY, 1010.0)
    assert not verdict.allowed
    assert verdict.wait_s == pytest.approx(20.0)
    assert check(state, POLICY, 1030.0).allowed


def test_sixth_failure_doubles_the_delay() -> None:
    state = fail(ThrottleState(), 6, at=2000.0)
    assert check(state, POLICY, 2059.0).wait_s == pytest.approx(1.0)
    assert check(state, POLICY, 2060.0).allowed


def test_success_resets_the_count() -> None:
    state = record_success(fail(ThrottleState(), 7, at=0.0))
    assert state == ThrottleState()
    assert check(state, POLICY, 0.0).allowed


def test_wall_clock_jumping_back_costs_at_most_one_delay() -> None:
    state = fail(ThrottleState(), 5, at=1_000_000.0)
    verdict = check(state, POLICY, 1000.0)  # clock jumped back ~11 days
    assert not verdict.allowed
    assert verdict.wait_s == pytest.approx(30.0)


@pytest.mark.parametrize(
    "kwargs",
    [{"free_failures": 0}, {"base_delay_s": 0.0}, {"base_delay_s": 10.0, "max_delay_s": 5.0}],
)
def test_bad_policy_is_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        ThrottlePolicy(**kwargs)  # type: ignore[arg-type]


def test_negative_failures_are_refused() -> None:
    with pytest.raises(ValueError):
        ThrottleState(failures=-1)
    with pytest.raises(ValueError):
        POLICY.delay_after(-1)
