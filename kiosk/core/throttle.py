"""Login throttle rules: a few free failures, then a delay that doubles up to a cap.

The state is plain data (failure count and the wall time of the last failure) so a store can
persist it and the throttle survives restarts. Time is passed in (wall seconds): the Pi has no
RTC, so a wall clock that jumps backwards re-anchors the last failure to "now" instead of
locking an agent out for the size of the jump.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ThrottlePolicy:
    """How many failures are free and how the delay grows after them (seconds)."""

    free_failures: int = 5
    base_delay_s: float = 30.0
    max_delay_s: float = 3600.0

    def __post_init__(self) -> None:
        if self.free_failures < 1:
            raise ValueError("free_failures must be at least 1")
        if self.base_delay_s <= 0:
            raise ValueError("base_delay_s must be positive (seconds)")
        if self.max_delay_s < self.base_delay_s:
            raise ValueError("max_delay_s must be at least base_delay_s")

    def delay_after(self, failures: int) -> float:
        """Seconds to wait after ``failures`` consecutive failures (0 while still free)."""
        if failures < 0:
            raise ValueError("failures cannot be negative")
        if failures < self.free_failures:
            return 0.0
        steps = failures - self.free_failures  # 0 for the 5th failure, 1 for the 6th ...
        if steps >= 64:
            return self.max_delay_s
        return float(min(self.base_delay_s * (2**steps), self.max_delay_s))


@dataclass(frozen=True)
class ThrottleState:
    """Consecutive failures for one key and the wall time (seconds) of the last one."""

    failures: int = 0
    last_failure_at: float = 0.0

    def __post_init__(self) -> None:
        if self.failures < 0:
            raise ValueError("failures cannot be negative")


@dataclass(frozen=True)
class Verdict:
    """Whether an attempt may be made now, and if not, for how many more seconds."""

    allowed: bool
    wait_s: float


def normalise(state: ThrottleState, now: float) -> ThrottleState:
    """Re-anchor a last failure that lies in the future (the wall clock jumped back)."""
    if state.failures and state.last_failure_at > now:
        return ThrottleState(state.failures, now)
    return state


def check(state: ThrottleState, policy: ThrottlePolicy, now: float) -> Verdict:
    """May an attempt be made at wall time ``now`` (seconds)?"""
    state = normalise(state, now)
    delay = policy.delay_after(state.failures)
    wait = max(0.0, state.last_failure_at + delay - now) if delay else 0.0
    return Verdict(wait == 0.0, wait)


def record_failure(state: ThrottleState, now: float) -> ThrottleState:
    """State after one more failed attempt at wall time ``now`` (seconds)."""
    return ThrottleState(state.failures + 1, now)


def record_success(state: ThrottleState) -> ThrottleState:
    """State after a successful attempt: the count starts again."""
    del state
    return ThrottleState()
