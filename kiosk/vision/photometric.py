"""Photometric normalisation of an aligned face crop, and the image measures liveness needs.

Measured on the field conditions of ``kiosk eval faces --conditions`` (docs/vision.md): a
luma percentile stretch of the aligned 112x112 crop helps the embedder in the dark and dim
office and costs nothing on clean faces; gray-world, CLAHE and gamma-to-mean did not help
as much, and no normalisation helped the MiniFASNet liveness models, so their crops stay raw.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

STRETCH_PERCENTILES = (2.0, 98.0)
MIN_SPREAD = 10.0  # grey levels: a flatter crop is left alone (nothing to stretch)


def stretch_luma(image: np.ndarray) -> np.ndarray:
    """RGB uint8 crop with its 2nd..98th luma percentiles stretched to 0..255 (all channels)."""
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    hist = np.bincount(gray.ravel(), minlength=256).cumsum()
    lo_q, hi_q = (p / 100.0 * hist[-1] for p in STRETCH_PERCENTILES)
    lo, hi = float(np.searchsorted(hist, lo_q)), float(np.searchsorted(hist, hi_q))
    if hi - lo < MIN_SPREAD:
        return image
    lut = np.clip((np.arange(256, dtype=np.float32) - lo) * (255.0 / (hi - lo)), 0, 255)
    return cv2.LUT(image, lut.astype(np.uint8))


_NOISE_KERNEL = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)


def noise_sigma(gray: np.ndarray) -> float:
    """Sensor noise estimate in grey levels (Immerkaer 1996) of a grey image (HxW)."""
    h, w = gray.shape[:2]
    if h < 3 or w < 3:
        return 0.0
    resp = cv2.filter2D(gray.astype(np.float32), -1, _NOISE_KERNEL)[1:-1, 1:-1]
    return float(math.sqrt(math.pi / 2.0) * np.abs(resp).mean() / 6.0)
