"""Test doubles for the face verifier tests (importable as ``face_doubles``)."""

from __future__ import annotations

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
