"""Passive liveness: the two MiniFASNet models (Silent-Face-Anti-Spoofing) averaged."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from kiosk.core.biometrics import LivenessBand, liveness_band
from kiosk.vision.models import Model

FAS_SIZE = 80


@dataclass(frozen=True)
class FasModel:
    """One MiniFASNet and the scale of the face box it was trained on."""

    model: Model
    scale: float


def fas_crop_box(
    width: int, height: int, box: tuple[float, float, float, float], scale: float
) -> tuple[int, int, int, int]:
    """Silent-Face's crop: box scaled about its centre, shifted (not shrunk) to fit the image.

    Returns (x0, y0, x1, y1) inclusive pixel bounds.
    """
    x, y, bw, bh = box
    bw, bh = max(bw, 1.0), max(bh, 1.0)
    scale = min((height - 1) / bh, (width - 1) / bw, scale)
    nw, nh = bw * scale, bh * scale
    cx, cy = x + bw / 2.0, y + bh / 2.0
    x0, y0, x1, y1 = cx - nw / 2.0, cy - nh / 2.0, cx + nw / 2.0, cy + nh / 2.0
    if x0 < 0:
        x1 -= x0
        x0 = 0
    if y0 < 0:
        y1 -= y0
        y0 = 0
    if x1 > width - 1:
        x0 -= x1 - width + 1
        x1 = width - 1
    if y1 > height - 1:
        y0 -= y1 - height + 1
        y1 = height - 1
    return int(max(x0, 0)), int(max(y0, 0)), int(x1), int(y1)


class PassiveLiveness:
    """Probability (0..1) that a face is a live person, averaged over the MiniFASNet models."""

    def __init__(self, models: list[FasModel]) -> None:
        self.models = models
        self._buf = np.zeros((1, 3, FAS_SIZE, FAS_SIZE), np.float32)

    def score(self, image: np.ndarray, box: tuple[float, float, float, float]) -> float:
        """Mean live-class softmax probability for the face at ``box`` (x, y, w, h pixels)."""
        h, w = image.shape[:2]
        total = 0.0
        for fas in self.models:
            x0, y0, x1, y1 = fas_crop_box(w, h, box, fas.scale)
            crop = cv2.resize(image[y0 : y1 + 1, x0 : x1 + 1], (FAS_SIZE, FAS_SIZE))
            # RGB HWC -> BGR CHW, raw 0..255
            self._buf[0] = crop[:, :, ::-1].transpose(2, 0, 1)
            (logits,) = fas.model.run(self._buf)
            z = logits[0].astype(np.float64)
            p = np.exp(z - z.max())
            total += float(p[1] / p.sum())
        return total / len(self.models)


@dataclass(frozen=True)
class PassiveVerdict:
    """Fused passive liveness of one attempt: the score and its band."""

    score: float
    band: LivenessBand


def passive_verdict(scores: Sequence[float], live: float, spoof: float) -> PassiveVerdict:
    """Band of the mean of per-frame ``scores``."""
    score = sum(scores) / len(scores)
    return PassiveVerdict(score, liveness_band(score, live, spoof))
