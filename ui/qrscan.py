"""Read the IKD app's QR code from camera frames, locally, with OpenCV's QR detector.

The decoded NIK is only a *claim*: it fills the NIK field and the face check still decides;
when online, the portal verifies it. Frames stay in memory.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kiosk.core.i18n import N_

log = logging.getLogger(__name__)

QR_FORMATS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("bare_nik", re.compile(r"(\d{16})")),
    ("ikd_fields", re.compile(r"IKD\|(\d{16})(?:\|[^|\r\n]{0,200}){0,8}")),
)
"""The QR structures the kiosk knows, each a full match whose group 1 is the NIK: a bare
16-digit NIK, and the IKD field form ``IKD|<NIK>|<field>...`` (at most 8 short fields). Add a
structure here (one place) when one is specified; nothing else is ever taken."""


def nik_from_qr(text: str | None) -> str | None:
    """The NIK of a QR code whose *whole* text has a known structure, else None.

    Never fishes 16 digits out of other text ("random text 1234567890123456" is refused).
    """
    if not text:
        return None
    payload = text.strip()
    for _name, pattern in QR_FORMATS:
        found = pattern.fullmatch(payload)
        if found is not None:
            return found.group(1)
    return None


QR_REFUSED = N_(
    "This QR code is not the NIK code of the IKD app. Show the QR code in the IKD app, "
    "or type the 16 digits of your NIK."
)
"""What a person hears when a QR code was read but has no structure the kiosk knows."""


@dataclass(frozen=True)
class QrReading:
    """What the camera's QR code says: a NIK, nothing, or a code the kiosk refuses."""

    nik: str | None
    refused: bool
    """A QR code was decoded but is not a known NIK structure (the person is told why)."""


def read_qr(text: str | None) -> QrReading:
    """The reading of one decoded QR text (None or empty: no code in view)."""
    if not text or not text.strip():
        return QrReading(None, refused=False)
    nik = nik_from_qr(text)
    return QrReading(nik, refused=nik is None)


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
