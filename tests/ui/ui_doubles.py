"""Test doubles for the UI tests: a scripted face verifier, a JSON sealer, fakes for extras."""

from __future__ import annotations

import json
from collections import deque
from typing import Any

from kiosk.core.session import Outcome
from kiosk.services.ports import FaceCheckResult

TEMPLATE = b"\x00\x00\x80?" * 128
"""A 128-float32 template (all 1.0)."""


def face(outcome: Outcome = Outcome.VERIFIED, coaching: str | None = None) -> FaceCheckResult:
    """A face check result: a usable capture with ``outcome``, or none with ``coaching``."""
    if coaching is not None:
        return FaceCheckResult(outcome, None, None, None, None, coaching)
    band = "HIGH" if outcome is Outcome.VERIFIED else "NONE"
    source = "village_set" if outcome is not Outcome.PENDING else None
    return FaceCheckResult(outcome, TEMPLATE, source, band, "live", None, capture=object())


class ScriptedVerifier:
    """Answers face checks from a queue; VERIFIED when the queue is empty."""

    def __init__(self) -> None:
        self.queue: deque[FaceCheckResult] = deque()
        self.calls: list[str] = []

    def script(self, *results: FaceCheckResult) -> None:
        """Queue the next answers."""
        self.queue.extend(results)

    def check(self, nik: str) -> FaceCheckResult:
        """Next scripted answer."""
        self.calls.append(nik)
        return self.queue.popleft() if self.queue else face()


class JsonSealer:
    """Seals a record as JSON bytes (no crypto), so tests can read what was stored."""

    def __init__(self) -> None:
        self.sealed: list[dict[str, Any]] = []

    def seal(self, kind: str, record_id: str, record: dict[str, Any]) -> bytes:
        """JSON of the record."""
        self.sealed.append(record)
        return json.dumps({"kind": kind, "record_id": record_id, "record": record}).encode()


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
