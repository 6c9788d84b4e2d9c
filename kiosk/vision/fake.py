"""The fake :class:`~kiosk.services.ports.FaceVerifier`, shipped beside the camera verifier
(as gpiozero ships its mock pins): answers face checks from a script, for tests and for
screens worked on without a camera."""

from __future__ import annotations

from collections import deque

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
    """Answers face checks from a queue, then ``default`` (VERIFIED unless told otherwise)."""

    def __init__(self, *results: FaceCheckResult, default: FaceCheckResult | None = None) -> None:
        self.queue: deque[FaceCheckResult] = deque(results)
        self.default = default or face()
        self.calls: list[str] = []  # the NIKs checked, in order

    def script(self, *results: FaceCheckResult) -> None:
        """Queue the next answers."""
        self.queue.extend(results)

    def check(self, nik: str) -> FaceCheckResult:
        """The next scripted answer (the default once the queue is empty)."""
        self.calls.append(nik)
        return self.queue.popleft() if self.queue else self.default
