"""USB webcam through OpenCV's V4L2 backend."""

from __future__ import annotations

import cv2
import numpy as np

from kiosk.errors import CameraError


class OpenCvSource:
    """Frames from /dev/video<index> via ``cv2.VideoCapture``."""

    paced = True

    def __init__(
        self, index: int = 0, width: int = 640, height: int = 480, fps: float = 15.0
    ) -> None:
        self.index, self.width, self.height, self.fps = index, width, height, fps
        self._cap: cv2.VideoCapture | None = None

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
