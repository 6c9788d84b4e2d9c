"""The in-process worker watchdog and its restart budget, on a fake clock."""

from __future__ import annotations

import pytest

from firmware.supervisor import RestartBudget, WorkerState, WorkerWatchdog
from kiosk.core.clock import FakeClock


def test_budget_sliding_window() -> None:
    b = RestartBudget(3, 60)
    assert [b.try_spend(t) for t in (0, 10, 20, 30)] == [True, True, True, False]
    assert b.remaining(59.9) == 0
    assert b.remaining(60) == 1  # the restart at t=0 has left the window
    assert b.try_spend(60) is True


@pytest.mark.parametrize(("budget", "window"), [(0, 60), (5, 0), (5, -1)])
def test_budget_rejects_bad_values(budget: int, window: float) -> None:
    with pytest.raises(ValueError):
        RestartBudget(budget, window)


class Harness:
    def __init__(self, clock: FakeClock, **kw: object) -> None:
        self.restarts: list[str] = []
        self.given_up: list[tuple[str, str]] = []
        self.wd = WorkerWatchdog(
            clock,
            on_give_up=lambda n, r: self.given_up.append((n, r)),
            **kw,  # type: ignore[arg-type]
        )


def test_beating_worker_is_left_alone(clock: FakeClock) -> None:
    h = Harness(clock)
    h.wd.register("camera", lambda: h.restarts.append("camera"), timeout_s=3)
    for _ in range(100):
        clock.advance(1)
        h.wd.beat("camera")
        assert h.wd.check() == []
    assert h.restarts == []


def test_stuck_worker_restarted_then_given_up(clock: FakeClock) -> None:
    h = Harness(clock, budget=5, window_s=60)
    h.wd.register("inference", lambda: h.restarts.append("inference"), timeout_s=3)
    clock.advance(3)
    assert h.wd.check() == []  # exactly at the timeout: not yet
    for i in range(5):
        clock.advance(3.5)
        assert h.wd.check() == ["inference"], i
    assert h.wd.restarts("inference") == 5
    assert not h.wd.out_of_service
    clock.advance(3.5)
    assert h.wd.check() == []
    assert h.wd.state("inference") is WorkerState.GIVEN_UP
    assert h.wd.out_of_service
    assert len(h.given_up) == 1 and h.given_up[0][0] == "inference"
    assert "5 restarts in 60 s" in h.given_up[0][1]
    clock.advance(100)
    h.wd.check()
    assert len(h.given_up) == 1 and len(h.restarts) == 5  # no more restarts, one alert


def test_slow_failures_stay_within_budget(clock: FakeClock) -> None:
    h = Harness(clock, budget=5, window_s=60)
    h.wd.register("camera", lambda: h.restarts.append("camera"), timeout_s=3)
    for _ in range(20):  # one stall every 20 s: never 5 in 60 s
        clock.advance(20)
        h.wd.check()
    assert len(h.restarts) == 20 and not h.wd.out_of_service


def test_reported_failure_restarts_immediately(clock: FakeClock) -> None:
    h = Harness(clock)
    h.wd.register("camera", lambda: h.restarts.append("camera"), timeout_s=30)
    h.wd.fail("camera", "CameraError")
    assert h.wd.check() == ["camera"]
    assert h.wd.check() == []  # the failure was consumed


def test_restart_that_raises_counts_and_is_retried(clock: FakeClock) -> None:
    h = Harness(clock, budget=2, window_s=60)
    attempts: list[int] = []

    def bad_restart() -> None:
        attempts.append(1)
        raise OSError("camera gone")

    h.wd.register("camera", bad_restart, timeout_s=3)
    h.wd.fail("camera", "unplugged")
    assert h.wd.check() == []  # tried, raised
    assert h.wd.check() == []  # tried again (the raise is a failure), raised
    assert h.wd.check() == []  # budget spent
    assert len(attempts) == 2
    assert h.wd.out_of_service and h.given_up[0][0] == "camera"


def test_workers_have_separate_budgets(clock: FakeClock) -> None:
    h = Harness(clock, budget=1, window_s=60)
    h.wd.register("a", lambda: h.restarts.append("a"))
    h.wd.register("b", lambda: h.restarts.append("b"))
    h.wd.fail("a", "x")
    h.wd.check()
    h.wd.beat("a")
    h.wd.fail("b", "y")
    assert h.wd.check() == ["b"]
    assert not h.wd.out_of_service


def test_bad_registration_and_unknown_worker(clock: FakeClock) -> None:
    wd = WorkerWatchdog(clock)
    wd.register("camera", lambda: None)
    with pytest.raises(ValueError, match="already registered"):
        wd.register("camera", lambda: None)
    with pytest.raises(ValueError, match="positive"):
        wd.register("x", lambda: None, timeout_s=0)
    with pytest.raises(KeyError, match="no worker named 'mic'"):
        wd.beat("mic")
    with pytest.raises(ValueError):
        WorkerWatchdog(clock, budget=0)
