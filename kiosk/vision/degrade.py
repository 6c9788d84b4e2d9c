"""Field conditions: one declared table of seeded image degradations for ``kiosk eval faces``.

Each row is a name, its parameters and a function ``(image, face_box, rng, params) -> image``.
They are applied to *probes* only (references stay clean), to a camera-sized frame, so a
figure measured here says what a village office would do to a capture. Everything is
deterministic for a given seed: the same table, image and seed give the same pixels.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import cv2
import numpy as np

Box = tuple[float, float, float, float]  # x, y, w, h in pixels
Degrade = Callable[[np.ndarray, Box, np.random.Generator, Mapping[str, Any]], np.ndarray]

CAMERA_LONG_SIDE = 640  # the kiosk camera's frame (640x480)


@dataclass(frozen=True)
class Condition:
    """One field condition: what it simulates, its parameters and its seeded function."""

    name: str
    what: str
    fn: Degrade
    params: Mapping[str, Any] = field(default_factory=dict)

    def apply(self, image: np.ndarray, box: Box, seed: int, index: int = 0) -> np.ndarray:
        """The degraded copy of ``image`` (RGB uint8) for frame ``index`` of this seed."""
        rng = np.random.default_rng([seed, zlib.crc32(self.name.encode()), index])
        out = self.fn(image, box, rng, self.params)
        return np.ascontiguousarray(np.clip(out, 0, 255).astype(np.uint8))


# --- building blocks ---------------------------------------------------------------------------


def camera_frame(image: np.ndarray, long_side: int = CAMERA_LONG_SIDE) -> np.ndarray:
    """``image`` shrunk (never enlarged) so its long side is at most ``long_side`` pixels."""
    h, w = image.shape[:2]
    s = long_side / max(h, w)
    if s >= 1.0:
        return image
    size = (max(1, round(w * s)), max(1, round(h * s)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def gain(image: np.ndarray, factor: float) -> np.ndarray:
    """Brightness scaled by ``factor`` (float result, not clipped)."""
    return image.astype(np.float32) * factor


def sensor_noise(image: np.ndarray, rng: np.random.Generator, sigma: float) -> np.ndarray:
    """Additive Gaussian noise of ``sigma`` grey levels, independent per pixel and channel."""
    return image.astype(np.float32) + rng.normal(0.0, sigma, image.shape).astype(np.float32)


def jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    """Round trip through JPEG at ``quality`` (1..100)."""
    u8 = np.clip(image, 0, 255).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", u8[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    decoded = cv2.imdecode(buf, cv2.IMREAD_COLOR) if ok else None
    if decoded is None:  # pragma: no cover - OpenCV always encodes a uint8 RGB array
        raise ValueError("JPEG round trip failed")
    return np.asarray(decoded)[:, :, ::-1]


def face_mask(shape: tuple[int, ...], box: Box, grow: float = 1.25) -> np.ndarray:
    """Soft elliptical mask (0..1 float32, HxWx1) over the face and hair at ``box``."""
    h, w = shape[:2]
    x, y, bw, bh = box
    mask = np.zeros((h, w), np.float32)
    center = (round(x + bw / 2), round(y + bh / 2))
    axes = (max(1, round(bw * grow / 2)), max(1, round(bh * grow * 0.65)))
    cv2.ellipse(mask, center, axes, 0, 0, 360, 1.0, -1)
    k = max(3, int(bw * 0.3) | 1)
    return cv2.GaussianBlur(mask, (k, k), 0)[:, :, None]


def _jitter(image: np.ndarray, rng: np.random.Generator, px: float) -> np.ndarray:
    """Sub-pixel shift by up to ``px`` (a hand-held or breathing subject between frames)."""
    if px <= 0:
        return image
    dx, dy = rng.uniform(-px, px, 2)
    m = np.array([[1, 0, dx], [0, 1, dy]], np.float32)
    return cv2.warpAffine(
        image, m, (image.shape[1], image.shape[0]), borderMode=cv2.BORDER_REPLICATE
    )


# --- the conditions ------------------------------------------------------------------------------


def _clean(img: np.ndarray, box: Box, rng: np.random.Generator, p: Mapping[str, Any]) -> np.ndarray:
    return _jitter(img, rng, p["jitter_px"])


def _dark(img: np.ndarray, box: Box, rng: np.random.Generator, p: Mapping[str, Any]) -> np.ndarray:
    return gain(_jitter(img, rng, p["jitter_px"]), p["gain"])


def _dim_office(
    img: np.ndarray, box: Box, rng: np.random.Generator, p: Mapping[str, Any]
) -> np.ndarray:
    dark = gain(_jitter(img, rng, p["jitter_px"]), p["gain"])
    return jpeg(sensor_noise(dark, rng, p["noise_sigma"]), p["jpeg_quality"])


def _noise(img: np.ndarray, box: Box, rng: np.random.Generator, p: Mapping[str, Any]) -> np.ndarray:
    return sensor_noise(_jitter(img, rng, p["jitter_px"]), rng, p["sigma"])


def _backlight(
    img: np.ndarray, box: Box, rng: np.random.Generator, p: Mapping[str, Any]
) -> np.ndarray:
    # A bright window behind: the background washes towards white, the face falls into shade.
    f = _jitter(img, rng, p["jitter_px"]).astype(np.float32)
    m = face_mask(f.shape, box)
    bright = 255.0 - (255.0 - f) * (1.0 - p["background_lift"])
    return m * f * p["face_gain"] + (1.0 - m) * bright


def _overexposed(
    img: np.ndarray, box: Box, rng: np.random.Generator, p: Mapping[str, Any]
) -> np.ndarray:
    # Exposure in linear light (sRGB ~ gamma 2.2): the scene ``ev`` stops too bright and the
    # face a further ``face_ev`` (a face light too close); highlights clip at white.
    f = _jitter(img, rng, p["jitter_px"]).astype(np.float32) / 255.0
    m = face_mask(f.shape, box, grow=1.0)
    linear = np.power(f, 2.2) * np.exp2(p["ev"] + p["face_ev"] * m)
    return 255.0 * np.power(np.clip(linear, 0.0, 1.0), 1.0 / 2.2)


def _clipped(
    img: np.ndarray, box: Box, rng: np.random.Generator, p: Mapping[str, Any]
) -> np.ndarray:
    # Pixel values multiplied (about +2.5 stops on the face): most of the skin clips white.
    f = gain(_jitter(img, rng, p["jitter_px"]), p["gain"])
    m = face_mask(f.shape, box, grow=1.0)
    return f * (1.0 + (p["hotspot"] - 1.0) * m)


def _jpeg(img: np.ndarray, box: Box, rng: np.random.Generator, p: Mapping[str, Any]) -> np.ndarray:
    return jpeg(_jitter(img, rng, p["jitter_px"]), p["quality"])


def _small_face(
    img: np.ndarray, box: Box, rng: np.random.Generator, p: Mapping[str, Any]
) -> np.ndarray:
    # Standing far from the camera: the scene shrunk so the face box is ``face_px`` wide,
    # centred on a plain wall of the camera frame's size.
    h, w = img.shape[:2]
    s = min(1.0, p["face_px"] / max(box[2], 1.0))
    small = cv2.resize(
        img, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA
    )
    canvas = np.full((h, w, 3), p["wall"], np.float32)
    canvas = sensor_noise(canvas, rng, 2.0)
    cx, cy = (box[0] + box[2] / 2) * s, (box[1] + box[3] / 2) * s
    ox, oy = round(w / 2 - cx), round(h / 2 - cy)
    sh, sw = small.shape[:2]
    x0, y0 = max(0, ox), max(0, oy)
    x1, y1 = min(w, ox + sw), min(h, oy + sh)
    canvas[y0:y1, x0:x1] = small[y0 - oy : y1 - oy, x0 - ox : x1 - ox]
    return _jitter(canvas, rng, p["jitter_px"])


def _roll(img: np.ndarray, box: Box, rng: np.random.Generator, p: Mapping[str, Any]) -> np.ndarray:
    # Head tilted: the image turned about the face centre (positive = counter-clockwise).
    center = (box[0] + box[2] / 2, box[1] + box[3] / 2)
    m = cv2.getRotationMatrix2D(center, float(p["degrees"]), 1.0)
    turned = cv2.warpAffine(
        img,
        m,
        (img.shape[1], img.shape[0]),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REFLECT,
    )
    return _jitter(turned, rng, p["jitter_px"])


def _row(name: str, what: str, fn: Degrade, **params: Any) -> Condition:
    params.setdefault("jitter_px", 1.5)
    return Condition(name, what, fn, MappingProxyType(params))


CONDITIONS: tuple[Condition, ...] = (
    _row("clean", "the camera frame as is", _clean),
    _row("dark", "30 % of the light", _dark, gain=0.30),
    _row(
        "dim_office",
        "30 % light + sensor noise + JPEG",
        _dim_office,
        gain=0.30,
        noise_sigma=8.0,
        jpeg_quality=50,
    ),
    _row("noise", "strong sensor noise", _noise, sigma=20.0),
    _row(
        "backlight",
        "bright window behind, face in shade",
        _backlight,
        background_lift=0.75,
        face_gain=0.55,
    ),
    _row(
        "overexposed",
        "scene +1 stop, face light +0.6 stop more",
        _overexposed,
        ev=1.0,
        face_ev=0.6,
    ),
    _row(
        "clipped",
        "face burnt out (+2.5 stops): only exposure control helps",
        _clipped,
        gain=1.6,
        hotspot=1.35,
    ),
    _row("jpeg20", "heavy JPEG compression", _jpeg, quality=20),
    _row("small_face", "standing far: face ~80 px", _small_face, face_px=80.0, wall=150.0),
    _row("roll15", "head tilted 15 degrees", _roll, degrees=15.0),
)

CONDITION_NAMES = tuple(c.name for c in CONDITIONS)


def condition(name: str) -> Condition:
    """The table row called ``name``; a ValueError lists the names that exist."""
    for c in CONDITIONS:
        if c.name == name:
            return c
    raise ValueError(f"unknown condition {name!r}; choose from {', '.join(CONDITION_NAMES)}")
