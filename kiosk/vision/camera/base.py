"""The camera interface, the frame, and a capture thread that never waits for analysis.

A backend only supplies a :class:`FrameSource` (open / read / close). :class:`ThreadedCamera`
runs it on its own thread, keeps just the newest frame (a frame replaced before anyone took it
is counted as dropped), notices a dead or unplugged device, and reopens it when it comes back.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, runtime_checkable

import numpy as np

from kiosk.core.clock import Clock, SystemClock
from kiosk.errors import CameraError

log = logging.getLogger("kiosk.vision.camera")


@dataclass(frozen=True)
class Frame:
    """One captured frame: HxWx3 uint8 RGB, monotonic timestamp (s), sequence number."""

    image: np.ndarray = field(repr=False)
    timestamp: float
    seq: int


class CameraState(StrEnum):
    """Health of a camera."""

    STOPPED = "stopped"
    STARTING = "starting"
    OK = "ok"
    STALLED = "stalled"
    ABSENT = "absent"


class Camera(Protocol):
    """What the kiosk needs from any camera backend."""

    state: CameraState
    dropped: int
    frames: int

    def start(self) -> None:
        """Begin capturing in the background."""
        ...

    def stop(self) -> None:
        """Stop capturing and release the device."""
        ...

    def latest(self) -> Frame | None:
        """The newest frame, without waiting (None before the first frame)."""
        ...

    def set_exposure(self, ev: float) -> bool:
        """Bias auto-exposure by ``ev`` stops (metered on the face); False if unsupported."""
        ...

    def light_changed(self, on: bool) -> None:
        """The face light was switched (the replay camera brightens its frames)."""
        ...


def new_frames(
    camera: Camera,
    clock: Clock,
    *,
    until: float,
    poll_s: float,
    sleep: Callable[[float], None],
    since: float = float("-inf"),
) -> Iterator[Frame]:
    """Each frame not seen before (none taken before ``since``) until monotonic ``until``.

    While the camera has nothing new it waits ``poll_s`` through ``sleep`` (injected, so tests
    move a fake clock instead of sleeping)."""
    last_seq: int | None = None
    while clock.monotonic() <= until:
        frame = camera.latest()
        if frame is None or frame.seq == last_seq or frame.timestamp < since:
            sleep(poll_s)
            continue
        last_seq = frame.seq
        yield frame


@runtime_checkable
class ExposureSource(Protocol):
    """A :class:`FrameSource` whose exposure can be biased (the one optional capability)."""

    def set_exposure(self, ev: float) -> bool:
        """Bias auto-exposure by ``ev`` stops; False if the device refused."""
        ...

    def light_changed(self, on: bool) -> None:
        """The face light was switched on or off."""
        ...


class FrameSource(Protocol):
    """The device-specific part of a camera backend."""

    paced: bool  # True if read() itself waits for the next frame (a real device)

    def open(self) -> None:
        """Open the device; raise CameraError if it is not there."""
        ...

    def read(self) -> np.ndarray | None:
        """One RGB frame; None if none is ready; raise CameraError if the device is gone."""
        ...

    def close(self) -> None:
        """Release the device (must be safe to call twice)."""
        ...


class ThreadedCamera:
    """Runs a :class:`FrameSource` on a capture thread; see the module docstring."""

    def __init__(
        self,
        source: FrameSource,
        *,
        fps: float = 15.0,
        stall_timeout_s: float = 3.0,
        retry_s: float = 1.0,
        clock: Clock | None = None,
        name: str = "camera",
    ) -> None:
        self.source = source
        self.fps = fps
        self.stall_timeout_s = stall_timeout_s
        self.retry_s = retry_s
        self.clock: Clock = clock or SystemClock()
        self.name = name
        self.state = CameraState.STOPPED
        self.dropped = 0
        self.frames = 0
        self._lock = threading.Lock()
        self._latest: Frame | None = None
        self._taken = True
        self._opened = False
        self._next_open = 0.0
        self._last_frame_at = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> None:
        """Start the capture thread (idempotent)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self.state = CameraState.STARTING
        self._last_frame_at = self.clock.monotonic()
        self._thread = threading.Thread(target=self._run, name=f"{self.name}-capture", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and close the device."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
            self._thread = None
        self._close()
        self.state = CameraState.STOPPED

    def latest(self) -> Frame | None:
        """The newest frame, without waiting."""
        with self._lock:
            self._taken = True
            return self._latest

    def set_exposure(self, ev: float) -> bool:
        """Bias the source's exposure by ``ev`` stops, if it can; False otherwise."""
        if isinstance(self.source, ExposureSource) and self._opened:
            try:
                return self.source.set_exposure(ev)
            except CameraError as err:
                log.warning("%s: exposure not applied: %s", self.name, err)
        return False

    def light_changed(self, on: bool) -> None:
        """Tell the source the face light was switched."""
        if isinstance(self.source, ExposureSource):
            self.source.light_changed(on)

    # -- capture ----------------------------------------------------------------------------
    def _run(self) -> None:
        period = 1.0 / self.fps
        while not self._stop.is_set():
            started = self.clock.monotonic()
            got = self.poll_once()
            if not got or not self.source.paced:
                wait = period - (self.clock.monotonic() - started) if got else min(period, 0.05)
                self._stop.wait(max(wait, 0.001))

    def poll_once(self) -> bool:
        """One capture step (open if needed, read, publish, health); True if a frame came."""
        now = self.clock.monotonic()
        if not self._opened:
            if now < self._next_open:
                return False
            try:
                self.source.open()
            except CameraError as err:
                self._mark_absent(now, err)
                return False
            self._opened = True
            self._last_frame_at = now
            if self.state is CameraState.ABSENT:
                log.info("%s is back", self.name)
            self.state = CameraState.STARTING
        try:
            image = self.source.read()
        except CameraError as err:
            self._close()
            self._mark_absent(now, err)
            return False
        if image is None:
            if (
                now - self._last_frame_at > self.stall_timeout_s
                and self.state is not CameraState.STALLED
            ):
                log.warning("%s stalled: no frame for %.1f s", self.name, now - self._last_frame_at)
                self.state = CameraState.STALLED
            if now - self._last_frame_at > 2 * self.stall_timeout_s:
                self._close()  # reopen on the next step: some drivers need it
                self._next_open = now + self.retry_s
            return False
        self.publish(image, now)
        return True

    def publish(self, image: np.ndarray, timestamp: float) -> Frame:
        """Make ``image`` the newest frame; an untaken older frame counts as dropped."""
        with self._lock:
            if self._latest is not None and not self._taken:
                self.dropped += 1
            frame = Frame(image, timestamp, self.frames)
            self._latest = frame
            self._taken = False
            self.frames += 1
            self._last_frame_at = timestamp
        self.state = CameraState.OK
        return frame

    def _mark_absent(self, now: float, err: CameraError) -> None:
        if self.state is not CameraState.ABSENT:
            log.warning("%s unavailable: %s", self.name, err)
        self.state = CameraState.ABSENT
        self._next_open = now + self.retry_s

    def _close(self) -> None:
        if self._opened:
            self._opened = False
            try:
                self.source.close()
            except CameraError as err:  # pragma: no cover - best effort
                log.warning("%s close failed: %s", self.name, err)
