"""Test doubles for the face verifier tests (importable as ``face_doubles``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kiosk.core.clock import FakeClock
from kiosk.vision.camera.base import CameraState, Frame


class FakeCamera:
    """A camera that shows one still image; every look is a new frame 1/15 s later."""

    def __init__(self, clock: FakeClock, image: np.ndarray | None = None) -> None:
        self.clock = clock
        self.image = image
        self.state = CameraState.OK
        self.dropped = 0
        self.frames = 0
        self.exposures: list[float] = []
        self.lights: list[bool] = []

    def start(self) -> None:
        """Nothing to start."""

    def stop(self) -> None:
        """Nothing to stop."""

    def show(self, image: np.ndarray | None) -> None:
        """Show ``image`` from now on (None: no frames at all)."""
        self.image = image

    def latest(self) -> Frame | None:
        """A new frame of the current image, advancing the clock by one frame period."""
        if self.image is None:
            return None
        self.clock.advance(1 / 15)
        self.frames += 1
        return Frame(self.image, self.clock.monotonic(), self.frames)

    def set_exposure(self, ev: float) -> bool:
        """Record the exposure bias asked for (a still image cannot change)."""
        self.exposures.append(ev)
        return False

    def light_changed(self, on: bool) -> None:
        """Record the face light switching."""
        self.lights.append(on)


class SteppedReplay:
    """The real replay camera (simulated exposure and face light), one new frame per look."""

    def __init__(self, clock: FakeClock, paths: list[Path]) -> None:
        from kiosk.vision.camera.replay import ReplayCamera

        self.clock = clock
        self.cam = ReplayCamera(paths, width=640, height=480, clock=clock)
        self.state = CameraState.OK
        self.dropped = self.frames = 0
        self.lights: list[bool] = []

    def start(self) -> None:
        """Not threaded in tests."""

    def stop(self) -> None:
        """Not threaded in tests."""

    def latest(self) -> Frame | None:
        """One new frame per call, 1/15 s later."""
        self.clock.advance(1 / 15)
        return self.cam.next_frame()

    def set_exposure(self, ev: float) -> bool:
        """Forward to the replay camera."""
        return self.cam.set_exposure(ev)

    def light_changed(self, on: bool) -> None:
        """Forward to the replay camera, and record it."""
        self.lights.append(on)
        self.cam.light_changed(on)
