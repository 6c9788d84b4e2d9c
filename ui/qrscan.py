"""Read the IKD app's QR code from camera frames, locally, with OpenCV's QR detector.

The decoded NIK is only a *claim*: it fills the NIK field and the face check still decides;
when online, the portal verifies it. Frames stay in memory.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


class CameraQrReader:
    """A :class:`ui.ports.QrReader` over a frame source (RGB or grey numpy arrays)."""

    def __init__(self, frames: Callable[[], Any]) -> None:
        self._frames = frames
        self._detector: Any = None
        self._lock = threading.Lock()

    def read(self) -> str | None:
        """Decoded text of a QR code in the newest frame, or None."""
        frame = self._frames()
        if frame is None:
            return None
        import cv2

        with self._lock:
            if self._detector is None:
                self._detector = cv2.QRCodeDetector()
            try:
                text, _points, _ = self._detector.detectAndDecode(frame)
            except cv2.error as err:
                log.debug("QR decode failed: %s", err)
                return None
        return text or None
