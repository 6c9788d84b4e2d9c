"""In-process watchdog: restarts stuck or crashed workers within a restart budget.

Each worker (camera, inference...) calls :meth:`WorkerWatchdog.beat` while it makes progress;
the main loop calls :meth:`WorkerWatchdog.check`. A worker silent for its timeout, or reported
failed, is restarted; after ``budget`` restarts inside ``window_s`` seconds it is given up on:
the kiosk shows "out of service" and ``on_give_up`` raises the alert (MQTT, in the app).
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from kiosk.core.clock import Clock

log = logging.getLogger(__name__)


class RestartBudget:
    """At most ``budget`` restarts in any sliding window of ``window_s`` seconds."""

    def __init__(self, budget: int = 5, window_s: float = 60.0) -> None:
        if budget < 1:
            raise ValueError("restart budget must be at least 1")
        if not window_s > 0:
            raise ValueError("restart window must be a positive number of seconds")
        self.budget = budget
        self.window_s = window_s
        self._times: deque[float] = deque()

    def _expire(self, now: float) -> None:
        while self._times and now - self._times[0] >= self.window_s:
            self._times.popleft()

    def remaining(self, now: float) -> int:
        """Restarts still allowed at monotonic time ``now`` (seconds)."""
        self._expire(now)
        return self.budget - len(self._times)

    def try_spend(self, now: float) -> bool:
        """Record a restart at ``now`` if the budget allows one; False when exhausted."""
        if self.remaining(now) <= 0:
            return False
        self._times.append(now)
        return True


class WorkerState(StrEnum):
    """Health of one supervised worker."""

    RUNNING = "running"
    GIVEN_UP = "given_up"


@dataclass
class _Worker:
    name: str
    restart_fn: Callable[[], None]
    timeout_s: float
    last_beat: float
    budget: RestartBudget
    state: WorkerState = WorkerState.RUNNING
    restarts: int = 0
    failure: str | None = None
    history: list[str] = field(default_factory=list)


GiveUpCallback = Callable[[str, str], None]
"""on_give_up(worker name, reason) - called once per worker when its budget is spent."""


class WorkerWatchdog:
    """Supervises named workers by heartbeat; see the module docstring."""

    def __init__(
        self,
        clock: Clock,
        budget: int = 5,
        window_s: float = 60.0,
        on_give_up: GiveUpCallback | None = None,
        *,
        default_timeout_s: float = 10.0,
    ) -> None:
        RestartBudget(budget, window_s)  # validate once, early
        if not default_timeout_s > 0:
            raise ValueError("default_timeout_s must be positive (seconds)")
        self._clock = clock
        self._budget = budget
        self._window_s = window_s
        self._on_give_up = on_give_up
        self._default_timeout_s = default_timeout_s
        self._workers: dict[str, _Worker] = {}
        self._lock = threading.Lock()

    def register(
        self, name: str, restart_fn: Callable[[], None], timeout_s: float | None = None
    ) -> None:
        """Supervise ``name``; ``restart_fn`` restarts it; silence over ``timeout_s`` = stuck."""
        timeout = self._default_timeout_s if timeout_s is None else timeout_s
        if not timeout > 0:
            raise ValueError(f"timeout for worker {name!r} must be positive (seconds)")
        with self._lock:
            if name in self._workers:
                raise ValueError(f"worker {name!r} is already registered")
            self._workers[name] = _Worker(
                name,
                restart_fn,
                timeout,
                self._clock.monotonic(),
                RestartBudget(self._budget, self._window_s),
            )

    def _get(self, name: str) -> _Worker:
        try:
            return self._workers[name]
        except KeyError:
            raise KeyError(f"no worker named {name!r} is registered") from None

    def beat(self, name: str) -> None:
        """The worker ``name`` made progress just now."""
        with self._lock:
            self._get(name).last_beat = self._clock.monotonic()

    def fail(self, name: str, reason: str) -> None:
        """The worker ``name`` crashed; it is restarted at the next :meth:`check`."""
        with self._lock:
            self._get(name).failure = reason

    def state(self, name: str) -> WorkerState:
        """Current state of one worker."""
        with self._lock:
            return self._get(name).state

    def restarts(self, name: str) -> int:
        """How many times ``name`` has been restarted since registration."""
        with self._lock:
            return self._get(name).restarts

    @property
    def out_of_service(self) -> bool:
        """True once any worker has been given up on."""
        with self._lock:
            return any(w.state is WorkerState.GIVEN_UP for w in self._workers.values())

    def check(self) -> list[str]:
        """Restart stuck or failed workers (budget allowing); return the names restarted."""
        now = self._clock.monotonic()
        to_restart: list[tuple[_Worker, str]] = []
        to_give_up: list[tuple[_Worker, str]] = []
        with self._lock:
            for w in self._workers.values():
                if w.state is WorkerState.GIVEN_UP:
                    continue
                if w.failure is not None:
                    reason = f"failed: {w.failure}"
                elif now - w.last_beat > w.timeout_s:
                    reason = f"no heartbeat for {now - w.last_beat:.1f} s"
                else:
                    continue
                w.failure = None
                w.last_beat = now  # give the restarted worker a full timeout
                if w.budget.try_spend(now):
                    w.restarts += 1
                    to_restart.append((w, reason))
                else:
                    w.state = WorkerState.GIVEN_UP
                    to_give_up.append(
                        (w, f"{reason}; {self._budget} restarts in {self._window_s:g} s spent")
                    )
        restarted = []
        for w, reason in to_restart:
            log.warning("restarting worker %s (%s)", w.name, reason)
            try:
                w.restart_fn()
            except Exception as err:
                log.exception("restart of worker %s failed", w.name)
                with self._lock:
                    w.failure = f"restart raised {type(err).__name__}"
                continue
            restarted.append(w.name)
        for w, reason in to_give_up:
            log.error("giving up on worker %s: %s", w.name, reason)
            if self._on_give_up is not None:
                try:
                    self._on_give_up(w.name, reason)
                except Exception:
                    log.exception("on_give_up callback failed")
        return restarted
