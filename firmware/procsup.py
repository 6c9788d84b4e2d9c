"""A small process supervisor: systemd's Restart=always with a restart budget, in Python.

The device runs the kiosk under systemd (see ``systemd/kiosk.service``); this is the same
policy for development machines without systemd and for the crash-survival test: restart the
child whenever it exits, at most ``budget`` times in ``window_s`` seconds, then give up.

    python -m firmware.procsup --budget 5 --window 60 -- kiosk run --config kiosk.toml
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from enum import StrEnum
from types import FrameType

from kiosk.core.clock import Clock, SystemClock

from .supervisor import RestartBudget

log = logging.getLogger(__name__)


class SupState(StrEnum):
    """Where the supervised process is in its life."""

    IDLE = "idle"
    RUNNING = "running"
    WAITING = "waiting"  # exited; restart scheduled
    GAVE_UP = "gave_up"  # budget spent: out of service
    STOPPED = "stopped"


class ProcessSupervisor:
    """Runs ``argv``, restarts it when it exits; call :meth:`poll` regularly."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        clock: Clock | None = None,
        budget: int = 5,
        window_s: float = 60.0,
        restart_delay_s: float = 1.0,
        env: Mapping[str, str] | None = None,
        on_give_up: Callable[[str], None] | None = None,
    ) -> None:
        if not argv:
            raise ValueError("nothing to supervise: the command is empty")
        if restart_delay_s < 0:
            raise ValueError("restart_delay_s must not be negative (seconds)")
        self.argv = list(argv)
        self._clock = clock or SystemClock()
        self._budget = RestartBudget(budget, window_s)
        self._delay = restart_delay_s
        self._env = dict(env) if env is not None else None
        self._on_give_up = on_give_up
        self._proc: subprocess.Popen[bytes] | None = None
        self._next_start = 0.0
        self.state = SupState.IDLE
        self.starts = 0
        self.exit_codes: list[int] = []

    @property
    def pid(self) -> int | None:
        """The running child's pid, if any."""
        return self._proc.pid if self._proc is not None and self.state is SupState.RUNNING else None

    def _spawn(self) -> None:
        try:
            self._proc = subprocess.Popen(self.argv, env=self._env)
        except OSError as err:
            log.error("cannot start %s: %s", self.argv[0], err)
            self._proc = None
            self._exited(127)
            return
        self.starts += 1
        self.state = SupState.RUNNING
        log.info("started %s as pid %d", self.argv[0], self._proc.pid)

    def start(self) -> None:
        """Start the child for the first time."""
        if self.state is not SupState.IDLE:
            raise RuntimeError(f"supervisor already {self.state.value}")
        self._spawn()

    def _exited(self, code: int) -> None:
        self.exit_codes.append(code)
        now = self._clock.monotonic()
        how = f"killed by signal {-code}" if code < 0 else f"exit code {code}"
        if self._budget.try_spend(now):
            log.warning("%s ended (%s); restarting in %.1f s", self.argv[0], how, self._delay)
            self.state = SupState.WAITING
            self._next_start = now + self._delay
            return
        self.state = SupState.GAVE_UP
        reason = (
            f"{self.argv[0]} ended ({how}) after {self._budget.budget} restarts in "
            f"{self._budget.window_s:g} s: out of service"
        )
        log.error("%s", reason)
        if self._on_give_up is not None:
            self._on_give_up(reason)

    def poll(self) -> SupState:
        """Notice an exit, restart when due; returns the state afterwards."""
        if self.state is SupState.RUNNING and self._proc is not None:
            code = self._proc.poll()
            if code is not None:
                self._exited(code)
        if self.state is SupState.WAITING and self._clock.monotonic() >= self._next_start:
            self._spawn()
        return self.state

    def stop(self, timeout_s: float = 10.0) -> int | None:
        """SIGTERM the child, SIGKILL after ``timeout_s``; no more restarts. Returns its code."""
        proc, self._proc = self._proc, None
        self.state = SupState.STOPPED
        if proc is None or proc.poll() is not None:
            return None if proc is None else proc.returncode
        proc.terminate()
        try:
            return proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            return proc.wait()


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: supervise a command until SIGTERM/SIGINT (0) or the budget is spent (1)."""
    parser = argparse.ArgumentParser(prog="python -m firmware.procsup", description=__doc__)
    parser.add_argument("--budget", type=int, default=5, help="restarts allowed per window")
    parser.add_argument("--window", type=float, default=60.0, help="budget window, seconds")
    parser.add_argument("--delay", type=float, default=1.0, help="pause before restart, s")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- command and arguments")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to supervise after --")
    logging.basicConfig(level=logging.INFO, format="procsup: %(message)s")
    try:
        sup = ProcessSupervisor(
            command, budget=args.budget, window_s=args.window, restart_delay_s=args.delay
        )
    except ValueError as err:
        parser.error(str(err))
    stop = threading.Event()

    def _term(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, _term) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        sup.start()
        while not stop.wait(0.2):
            if sup.poll() is SupState.GAVE_UP:
                return 1
        return 0
    finally:
        sup.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
