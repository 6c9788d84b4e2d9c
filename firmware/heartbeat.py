"""One call for the main loop: check the worker watchdog and pet systemd's watchdog in time."""

from __future__ import annotations

from kiosk.core.clock import Clock

from .sdnotify import Notifier
from .supervisor import WorkerWatchdog


class MainLoopHeartbeat:
    """Call :meth:`tick` every main-loop turn; WATCHDOG=1 goes out every ``interval_s``.

    ``interval_s`` defaults to half of systemd's WatchdogSec (from ``WATCHDOG_USEC``); without
    a systemd watchdog only the worker check runs. If the main loop hangs, the pings stop and
    systemd restarts the service; if a worker hangs, the worker watchdog restarts it.
    """

    def __init__(
        self,
        notifier: Notifier,
        clock: Clock,
        watchdog: WorkerWatchdog | None = None,
        interval_s: float | None = None,
    ) -> None:
        self._notifier = notifier
        self._clock = clock
        self._watchdog = watchdog
        self.interval_s = interval_s if interval_s is not None else notifier.watchdog_interval_s()
        if self.interval_s is not None and not self.interval_s > 0:
            raise ValueError("heartbeat interval must be positive (seconds)")
        self._next = clock.monotonic()
        self.pings = 0

    def tick(self) -> list[str]:
        """Run the worker check, ping systemd when due; returns the workers restarted."""
        restarted = self._watchdog.check() if self._watchdog is not None else []
        now = self._clock.monotonic()
        if self.interval_s is not None and now >= self._next:
            if self._notifier.watchdog():
                self.pings += 1
            self._next = now + self.interval_s
        return restarted
