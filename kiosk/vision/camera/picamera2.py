"""Raspberry Pi camera through ``picamera2``, imported only when the backend is opened."""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np

from kiosk.errors import CameraError

AE_METERING_SPOT = 1
"""libcamera ``AeMeteringModeEnum.Spot`` (0 centre-weighted, 1 spot, 2 matrix)."""


class Picamera2Source:
    """Frames from the Pi camera module (libcamera)."""

    paced = True

    def __init__(self, width: int = 640, height: int = 480, fps: float = 15.0) -> None:
        self.width, self.height, self.fps = width, height, fps
        self._cam: Any = None

    def open(self) -> None:
        """Import picamera2 and start the camera; CameraError if either fails."""
        try:
            from picamera2 import Picamera2  # lazy: this import fails off-Pi
        except ImportError as err:
            raise CameraError(f"picamera2 is not available on this machine ({err})") from err
        try:
            cam = Picamera2()
            config = cam.create_video_configuration(
                main={"size": (self.width, self.height), "format": "RGB888"},
                controls={"FrameRate": self.fps},
            )
            cam.configure(config)
            cam.start()
        except (RuntimeError, IndexError, OSError) as err:
            raise CameraError(f"Pi camera could not be started ({err})") from err
        self._cam = cam
        # Meter the centre, where the guide oval puts the face, not the whole scene; an older
        # libcamera without the control still takes the EV bias.
        with contextlib.suppress(RuntimeError, KeyError, ValueError):
            cam.set_controls({"AeMeteringMode": AE_METERING_SPOT})

    def set_exposure(self, ev: float) -> bool:
        """Bias the Pi camera's auto-exposure by ``ev`` stops (libcamera ``ExposureValue``)."""
        if self._cam is None:
            return False
        try:
            self._cam.set_controls({"ExposureValue": max(-8.0, min(8.0, float(ev)))})
        except (RuntimeError, KeyError, ValueError) as err:
            raise CameraError(f"Pi camera refused the exposure value ({err})") from err
        return True

    def light_changed(self, on: bool) -> None:
        """Nothing to do: the auto-exposure sees the light itself."""

    def read(self) -> np.ndarray | None:
        """One RGB frame (picamera2's 'RGB888' is B,G,R in memory, so it is reversed)."""
        if self._cam is None:
            raise CameraError("Pi camera is not open")
        try:
            bgr = self._cam.capture_array("main")
        except (RuntimeError, OSError) as err:
            raise CameraError(f"Pi camera stopped delivering frames ({err})") from err
        return np.ascontiguousarray(bgr[:, :, 2::-1])

    def close(self) -> None:
        """Stop and release the camera."""
        if self._cam is not None:
            try:
                self._cam.stop()
                self._cam.close()
            except (RuntimeError, OSError):
                pass
            self._cam = None
