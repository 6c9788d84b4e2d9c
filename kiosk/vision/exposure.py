"""Exposure from the face, not the frame: the loop from the face region's luma to the camera.

A camera's own auto-exposure meters the whole frame, so a villager before a bright window or
a white wall comes out dark. :class:`FaceExposure` turns the luma of the subject's face into
an exposure bias in EV stops that the camera applies (``Camera.set_exposure``): picamera2 as
``ExposureValue`` with spot metering, a webcam through V4L2's exposure, the replay camera as a
simulated gain. Steps are limited and spaced so the loop settles instead of oscillating.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class FaceExposure:
    """Exposure bias (EV stops) that brings the face luma (0..255) near ``target``."""

    target: float = 125.0  # mid-grey skin, well inside the gate's 55..215
    low: float = 80.0  # a face luma inside low..high is left alone: the models are trained on
    high: float = 190.0  # ordinary photos, and passive liveness moves when the gain does
    max_step_ev: float = 1.0  # at most this much change per step
    min_ev: float = -2.0
    max_ev: float = 2.0
    settle_s: float = 0.25  # a camera needs a few frames to apply a new exposure
    ev: float = 0.0
    _changed_at: float = -math.inf

    def update(self, face_luma: float, now: float) -> float | None:
        """Feed the face luma of a frame taken at ``now`` (s); the new bias, or None if kept."""
        if not math.isfinite(face_luma) or now - self._changed_at < self.settle_s:
            return None
        if self.low <= face_luma <= self.high:
            return None
        error = math.log2(self.target / max(face_luma, 1.0))
        step = max(-self.max_step_ev, min(self.max_step_ev, error))
        new = max(self.min_ev, min(self.max_ev, self.ev + step))
        if abs(new - self.ev) < 1e-6:
            return None
        self.ev = new
        self._changed_at = now
        return new

    def reset(self) -> float:
        """Back to the camera's own exposure (bias 0); returns 0.0."""
        self.ev = 0.0
        self._changed_at = -math.inf
        return self.ev
