"""The agent's own face check: capture the person at the camera, match an agent's template.

Implements ``kiosk.agents.auth.AgentFaceMatcher``: a live face gives a match band, anything
else (no usable face, not live) gives None, never a band.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from kiosk.core.biometrics import AttemptOutcome, LivenessBand
from kiosk.core.clock import Clock
from kiosk.vision.camera.base import new_frames
from kiosk.vision.capture import CaptureSettings, FaceCapture
from kiosk.vision.embedder import template_from_bytes

log = logging.getLogger(__name__)


class CameraAgentMatcher:
    """Capture-and-match against a given template, with the same liveness rules as villagers."""

    def __init__(
        self,
        camera: Any,
        pipeline: Any,
        clock: Clock,
        *,
        capture_s: float = 20.0,
        challenge_s: float = 20.0,
        poll_s: float = 0.02,
        sleep: Callable[[float], None] = time.sleep,
        passive_only: float = CaptureSettings.passive_only,
    ) -> None:
        self._camera = camera
        self._pipeline = pipeline
        self._clock = clock
        self._capture_s = capture_s
        self._challenge_s = challenge_s
        self._poll_s = poll_s
        self._sleep = sleep
        self._passive_only = passive_only

    def __call__(self, template: bytes) -> str | None:
        """Match band (HIGH/MEDIUM/LOW/NONE) of the live face against ``template``, or None."""
        reference = template_from_bytes(template)
        start = self._clock.monotonic()
        settings = CaptureSettings(
            capture_s=self._capture_s,
            challenge_s=self._challenge_s,
            decision_s=self._capture_s + 2 * self._challenge_s,
            passive_only=self._passive_only,
        )
        capture = FaceCapture(self._pipeline, reference, started_at=start, settings=settings)
        until = capture.deadline + 1.0
        frames = new_frames(
            self._camera,
            self._clock,
            until=until,
            since=start,
            poll_s=self._poll_s,
            sleep=self._sleep,
        )
        if not capture.run(frames):
            return None
        status = capture.status
        result = status.result
        if status.outcome in (AttemptOutcome.NO_CAPTURE, AttemptOutcome.NOT_LIVE):
            return None
        if result is None or status.liveness is not LivenessBand.LIVE or result.match is None:
            return None
        return result.match.value
