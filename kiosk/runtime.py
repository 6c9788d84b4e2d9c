"""The running kiosk: the built graph (:class:`Kiosk`), its main loop and its threads.

:func:`kiosk.app.build_kiosk` (the wiring) builds a :class:`Kiosk`; this module runs it: the
once-a-second main loop (session time-outs, agent housekeeping, reference expiry, the camera
watchdog, the status LEDs) and :func:`serve_until_stopped` (waitress and systemd's watchdog).
No adapter is built here.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kiosk.config import KioskConfig
from kiosk.core.clock import Clock
from kiosk.services.registration import RegistrationService
from kiosk.services.status import StatusService

if TYPE_CHECKING:  # the adapters' types only: importing them here would load the world
    from flask import Flask

    from firmware.device import Device
    from firmware.indicators import Status
    from firmware.supervisor import WorkerWatchdog
    from kiosk.agents.service import AgentService
    from kiosk.references.demo import DemoVillage
    from kiosk.references.store import ReferenceStore
    from kiosk.uplink.service import Uplink
    from kiosk.vision.camera.base import Camera
    from kiosk.vision.pipeline import FacePipeline
    from kiosk.vision.verifier import CameraFaceVerifier

log = logging.getLogger("kiosk.runtime")

TICK_S = 1.0
"""Main-loop period: session time-outs, LEDs, watchdog heartbeats, housekeeping (seconds)."""


@dataclass
class Kiosk:
    """Everything one running kiosk is made of; :meth:`start` / :meth:`stop` its threads."""

    cfg: KioskConfig
    clock: Clock
    wsgi_app: Flask
    registration: RegistrationService
    status: StatusService
    camera: Camera
    pipeline: FacePipeline
    verifier: CameraFaceVerifier
    references: ReferenceStore
    uplink: Uplink | None
    agents: AgentService
    device: Device | None
    demo: DemoVillage | None
    watchdog: WorkerWatchdog | None = None
    out_of_service: str | None = None
    _stoppers: list[Callable[[], None]] = field(default_factory=list)
    _tickers: list[Callable[[], None]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the camera, the uplink, the device and the main loop."""
        self.camera.start()
        self._stoppers.append(self.camera.stop)
        if self.uplink is not None:
            self.uplink.start()
            self._stoppers.append(self.uplink.stop)
        self._thread = threading.Thread(target=self._loop, name="kiosk-main", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop every thread and close the hardware, newest first."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        for stop in reversed(self._stoppers):
            try:
                stop()
            except Exception:  # keep stopping the rest
                log.exception("error while stopping")
        self._stoppers.clear()

    def every_tick(self, chore: Callable[[], object]) -> None:
        """Run ``chore`` on every pass of the main loop (its result is ignored)."""
        self._tickers.append(lambda: _ignore(chore()))

    def on_stop(self, stop: Callable[[], object]) -> None:
        """Call ``stop`` when the kiosk stops (newest first)."""
        self._stoppers.append(lambda: _ignore(stop()))

    def tick(self) -> None:
        """One pass of the main loop (also called directly by tests)."""
        for tick in self._tickers:
            try:
                tick()
            except Exception:  # one failing chore must not stop the others
                log.exception("main-loop chore failed")

    def _loop(self) -> None:
        while not self._stop.wait(TICK_S):
            self.tick()

    def camera_state(self) -> str:
        """The camera's health as the heartbeat reports it (``out_of_service`` once given up)."""
        if self.out_of_service:
            return "out_of_service"
        return str(getattr(self.camera, "state", "unknown"))

    def light_status(self) -> Status:
        """The status LED pattern to show now (the policy lives in ``firmware.indicators``)."""
        from firmware.indicators import status_for

        uplink = self.uplink
        return status_for(
            out_of_service=self.out_of_service is not None,
            camera_state=str(getattr(self.camera, "state", "ok")),
            busy=self.registration.active,
            waiting_offline=uplink is not None and uplink.pending_count() > 0 and not uplink.online,
        )


def watch_camera(kiosk: Kiosk) -> WorkerWatchdog:
    """Restart a stuck camera (5 times in 60 s at most), then declare the kiosk out of service."""
    from firmware.supervisor import WorkerWatchdog

    clock, stall_s = kiosk.clock, kiosk.cfg.camera.stall_timeout_s

    def give_up(worker: str, reason: str) -> None:
        kiosk.out_of_service = f"{worker}: {reason}"
        log.error("OUT OF SERVICE: %s", kiosk.out_of_service)

    def restart_camera() -> None:
        kiosk.camera.stop()
        kiosk.camera.start()

    watchdog = WorkerWatchdog(clock, budget=5, window_s=60.0, on_give_up=give_up)
    watchdog.register("camera", restart_camera, timeout_s=3 * stall_s)

    def beat_if_fresh() -> None:
        frame = kiosk.camera.latest()
        if frame is not None and clock.monotonic() - frame.timestamp < stall_s:
            watchdog.beat("camera")

    kiosk.every_tick(beat_if_fresh)
    kiosk.every_tick(watchdog.check)
    return watchdog


def serve_until_stopped(kiosk: Kiosk) -> int:
    """Run ``kiosk`` under waitress on ``cfg.ui.host:port`` until interrupted; exit code."""
    import waitress

    from firmware.heartbeat import MainLoopHeartbeat
    from firmware.sdnotify import Notifier

    cfg = kiosk.cfg

    def _terminate(_signum: int, _frame: Any) -> None:
        raise SystemExit(0)  # systemd's SIGTERM: stop as cleanly as on Ctrl-C

    signal.signal(signal.SIGTERM, _terminate)
    kiosk.start()
    notifier = Notifier()  # does nothing outside systemd (no NOTIFY_SOCKET)
    heartbeat = MainLoopHeartbeat(notifier, kiosk.clock)  # the worker check is a ticker already
    kiosk.every_tick(heartbeat.tick)
    notifier.ready(f"serving on {cfg.ui.host}:{cfg.ui.port}")
    log.info("kiosk %s serving on http://%s:%d", cfg.device.id, cfg.ui.host, cfg.ui.port)
    try:
        waitress.serve(kiosk.wsgi_app, host=cfg.ui.host, port=cfg.ui.port, threads=6, ident="")
    finally:
        notifier.stopping()
        kiosk.stop()
    return 0


def _ignore(_value: object) -> None:
    """Adapt a function with a result to a callback that returns nothing."""
