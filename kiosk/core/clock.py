"""Injected time: the real clock and a fake one for tests and replays."""

from __future__ import annotations

import datetime as dt
import time
from typing import Protocol


class Clock(Protocol):
    """Source of time: wall-clock seconds since the epoch and a monotonic counter in seconds."""

    def now(self) -> float:
        """Wall-clock time, seconds since 1970-01-01 UTC (may jump; the Pi has no RTC)."""
        ...

    def monotonic(self) -> float:
        """Monotonic seconds; only differences are meaningful."""
        ...


class SystemClock:
    """The machine's clocks."""

    def now(self) -> float:
        """Wall-clock seconds since the epoch."""
        return time.time()

    def monotonic(self) -> float:
        """Monotonic seconds."""
        return time.monotonic()


class FakeClock:
    """A clock that moves only when told to; for tests and deterministic replays."""

    def __init__(self, start: float = 1_780_000_000.0) -> None:
        self._wall = start
        self._mono = 1000.0

    def now(self) -> float:
        """Current fake wall time, seconds."""
        return self._wall

    def monotonic(self) -> float:
        """Current fake monotonic time, seconds."""
        return self._mono

    def advance(self, seconds: float) -> None:
        """Move both clocks forward by ``seconds``."""
        if seconds < 0:
            raise ValueError("a clock cannot go backwards")
        self._wall += seconds
        self._mono += seconds

    def set_wall(self, wall: float) -> None:
        """Jump the wall clock (as an NTP sync would) without touching the monotonic one."""
        self._wall = wall


def today(clock: Clock) -> dt.date:
    """The kiosk's date by ``clock`` (UTC, like the records' wall time): the one "today" for
    entry checks and the NIK's century."""
    return dt.datetime.fromtimestamp(clock.now(), tz=dt.UTC).date()
