"""USB webcam through OpenCV's V4L2 backend."""

from __future__ import annotations

import cv2
import numpy as np

from kiosk.errors import CameraError

# V4L2's exposure_auto menu as OpenCV passes it: 1 = manual, 3 = aperture priority (auto).
V4L2_MANUAL, V4L2_AUTO = 1, 3


class OpenCvSource:
    """Frames from /dev/video<index> via ``cv2.VideoCapture``."""

    paced = True

    def __init__(
        self, index: int = 0, width: int = 640, height: int = 480, fps: float = 15.0
    ) -> None:
        self.index, self.width, self.height, self.fps = index, width, height, fps
        self._cap: cv2.VideoCapture | None = None
        self._auto_exposure = 0.0

    def open(self) -> None:
        """Open the webcam; CameraError if it is not there."""
        cap = cv2.VideoCapture(self.index, cv2.CAP_V4L2)
        if not cap.isOpened():
            cap.release()
            raise CameraError(f"no webcam at /dev/video{self.index}")
        cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
        cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
        cap.set(cv2.CAP_PROP_FPS, self.fps)
        cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        self._cap = cap
        # The camera's own exposure, as V4L2 reports it (absolute units, <= 0: not reported).
        self._auto_exposure = float(cap.get(cv2.CAP_PROP_EXPOSURE))

    def set_exposure(self, ev: float) -> bool:
        """Bias exposure by ``ev`` stops: manual V4L2 exposure scaled from the camera's own.

        Many UVC webcams refuse manual exposure or report none; then False, and the face
        light and the coaching do the work. ``ev == 0`` gives the camera its auto mode back.
        """
        cap = self._cap
        if cap is None:
            return False
        if abs(ev) < 1e-6:
            return bool(cap.set(cv2.CAP_PROP_AUTO_EXPOSURE, V4L2_AUTO))
        if self._auto_exposure <= 0:
            return False
        if not cap.set(cv2.CAP_PROP_AUTO_EXPOSURE, V4L2_MANUAL):
            return False
        return bool(cap.set(cv2.CAP_PROP_EXPOSURE, self._auto_exposure * 2.0**ev))

    def light_changed(self, on: bool) -> None:
        """Nothing to do: the sensor sees the light itself."""

    def read(self) -> np.ndarray | None:
        """One RGB frame; CameraError when the device stops answering (unplugged)."""
        if self._cap is None:
            raise CameraError("webcam is not open")
        ok, bgr = self._cap.read()
        if not ok or bgr is None:
            raise CameraError(f"webcam /dev/video{self.index} returned no frame")
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)

    def close(self) -> None:
        """Release the device."""
        if self._cap is not None:
            self._cap.release()
            self._cap = None
