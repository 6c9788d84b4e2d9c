"""Test doubles for the UI's optional extras; the verifier and sealer fakes ship in the package."""

from __future__ import annotations

from kiosk.crypto.fake import JsonSealer
from kiosk.vision.fake import TEMPLATE, ScriptedVerifier, face

__all__ = ["TEMPLATE", "FakeAgent", "FakeLive", "FakePresence", "FakeQr", "JsonSealer"]
__all__ += ["ScriptedVerifier", "face"]


class FakeLive:
    """Live view: a fixed coaching code and a tiny JPEG."""

    def __init__(self, code: str | None = "too_far", jpeg: bytes | None = None) -> None:
        self.code = code
        self.jpeg = jpeg

    def coaching(self) -> str | None:
        """The current code."""
        return self.code

    def preview_jpeg(self) -> bytes | None:
        """The current frame."""
        return self.jpeg


class FakePresence:
    """Presence sensor switched by the test."""

    def __init__(self) -> None:
        self.here = False

    def present(self) -> bool:
        """Whether someone is there."""
        return self.here


class FakeAgent:
    """Records agent calls."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def call(self, reason: str) -> None:
        """Record one call."""
        self.calls.append(reason)


class FakeQr:
    """QR reader returning a fixed text."""

    def __init__(self, text: str | None = None) -> None:
        self.text = text

    def read(self) -> str | None:
        """The decoded text."""
        return self.text
