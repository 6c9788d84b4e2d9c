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
class LivenessLimits:
    """When a frame is good enough for a passive verdict (pixels, grey levels)."""

    # Below this the 80x80 model crops hold too little skin detail: a far live face and a
    # far photo look alike to MiniFASNet.
    min_face_px: float = 120.0
    # Sensor noise (Immerkaer estimate on the 192 px mesh crop) above which MiniFASNet reads
    # grain as print/screen texture: the noise condition scores real faces near 0.
    max_noise: float = 5.0


@dataclass(frozen=True)
class PassiveVerdict:
    """Fused passive liveness of one attempt: the score, its band, and whether the frames
    were too poor for a firm verdict."""

    score: float
    band: LivenessBand
    poor: bool = False


def fuse_scores(scores: Sequence[float]) -> float:
    """Robust fusion of per-frame scores: the median of up to 4, else a 20 % trimmed mean."""
    if not scores:
        raise ValueError("no liveness scores to fuse")
    xs = sorted(float(x) for x in scores)
    n = len(xs)
    if n <= 4:
        mid = n // 2
        return xs[mid] if n % 2 else (xs[mid - 1] + xs[mid]) / 2.0
    k = n // 5
    kept = xs[k : n - k]
    return sum(kept) / len(kept)


def passive_verdict(
    scores: Sequence[float], live: float, spoof: float, poor: bool = False
) -> PassiveVerdict:
    """Band of the fused per-frame ``scores``; ``poor`` frames only ever give 'uncertain'.

    A poor image (dark, noisy, over-exposed, small or coached face) never makes a real
    person a 'spoof' and never lets a photo through as 'live': it asks for the active
    challenge. Only good frames with a fused score at or above the high ``live`` bar are
    live on passive alone.
    """
    score = fuse_scores(scores)
    band = liveness_band(score, live, spoof)
    if poor and band is not LivenessBand.UNCERTAIN:
        band = LivenessBand.UNCERTAIN
    return PassiveVerdict(score, band, poor)
