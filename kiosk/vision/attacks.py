"""Synthetic presentation attacks made from bona fide photos, for ``kiosk eval liveness --attacks``.

One declared table of attack kinds: a medium (phone screen replay: pixel grid, moire, display
tone and glare; or a print: reduced gamut, paper tint and texture), with or without the
device's bezel / the paper's edge in view, held near (close-up) or far. Each is seeded and
deterministic. These are *synthetic* attacks: a figure measured on them is a regression
check of the method, never an ISO/IEC 30107-3 certification.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from kiosk.vision.degrade import Box, jpeg, sensor_noise

FRAME_W, FRAME_H = 640, 480  # the kiosk camera's frame
NOT_A_CERTIFICATION = (
    "Synthetic attacks made from bona fide photos: a regression check of the method, "
    "not an ISO/IEC 30107-3 certification; test real attacks on the kiosk's own camera."
)

Medium = Callable[[np.ndarray, np.random.Generator], np.ndarray]


def _portrait(image: np.ndarray, box: Box, width_faces: float) -> tuple[np.ndarray, Box]:
    """A 3:4 portrait crop ``width_faces`` face-widths wide (what is shown) and the face box
    in it."""
    h, w = image.shape[:2]
    x, y, bw, bh = box
    cw = min(w, bw * width_faces)
    ch = min(h, cw * 4 / 3)
    cw = min(cw, ch * 3 / 4)
    cx, cy = x + bw / 2, y + bh / 2
    x0 = int(np.clip(cx - cw / 2, 0, w - cw))
    y0 = int(np.clip(cy - ch * 0.45, 0, h - ch))
    return image[y0 : y0 + int(ch), x0 : x0 + int(cw)], (x - x0, y - y0, bw, bh)


def screen(content: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A phone screen showing ``content``: pixel grid, moire, display tone, glare."""
    h, w = content.shape[:2]
    # The display's own resolution, then its sub-pixel grid seen by the camera.
    px = max(60, w // 3)
    low = cv2.resize(content, (px, round(px * h / w)), interpolation=cv2.INTER_AREA)
    f = cv2.resize(low, (w, h), interpolation=cv2.INTER_NEAREST).astype(np.float32)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(-0.3, 0.3)
    period = w / px * rng.uniform(0.9, 1.1)
    u = xx * np.cos(angle) + yy * np.sin(angle)
    v = -xx * np.sin(angle) + yy * np.cos(angle)
    grid = 0.5 + 0.25 * (np.cos(2 * np.pi * u / period) + np.cos(2 * np.pi * v / period))
    f *= (1.0 - rng.uniform(0.10, 0.18) * grid)[:, :, None]
    # Display tone: lifted blacks, a cool white point, a little less contrast.
    f = 18.0 + f * 0.88
    f *= np.array([0.94, 1.0, 1.07], np.float32)
    # Glare: a soft specular blob from the office light on the glass.
    gx, gy = rng.uniform(0.15, 0.85) * w, rng.uniform(0.1, 0.6) * h
    s = rng.uniform(0.12, 0.25) * max(w, h)
    blob = np.exp(-((xx - gx) ** 2 + (yy - gy) ** 2) / (2 * s * s))
    f += (rng.uniform(60, 110) * blob)[:, :, None]
    return f


def paper(content: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A printed photo of ``content``: reduced gamut, paper tint, ink spread, paper texture."""
    h, w = content.shape[:2]
    ycc = cv2.cvtColor(content, cv2.COLOR_RGB2YCrCb).astype(np.float32)
    ycc[:, :, 0] = 28.0 + ycc[:, :, 0] * (200.0 / 255.0)  # ink black and paper white
    ycc[:, :, 1:] = 128.0 + (ycc[:, :, 1:] - 128.0) * rng.uniform(0.5, 0.7)
    f = cv2.cvtColor(np.clip(ycc, 0, 255).astype(np.uint8), cv2.COLOR_YCrCb2RGB)
    f = cv2.GaussianBlur(f, (0, 0), 0.9).astype(np.float32)
    f *= np.array([1.03, 1.0, 0.90], np.float32)  # warm paper under office light
    fibre = np.asarray(
        cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), 3.0), np.float32
    )
    fibre = fibre / max(float(fibre.std()), 1e-6)
    grain = rng.normal(0, 1, (h, w)).astype(np.float32)
    f *= (1.0 + 0.035 * fibre + 0.025 * grain)[:, :, None]
    return f


def _background(rng: np.random.Generator) -> np.ndarray:
    """An office wall: a smooth random gradient with a little texture."""
    base = rng.uniform(110, 200, 3).astype(np.float32)
    yy, xx = np.mgrid[0:FRAME_H, 0:FRAME_W].astype(np.float32)
    ramp = 1.0 + 0.15 * (xx / FRAME_W - 0.5) * rng.uniform(-1, 1) + 0.1 * (yy / FRAME_H - 0.5)
    return base[None, None, :] * ramp[:, :, None]


def _with_edge(medium: np.ndarray, kind: str, height_frac: float, rng: np.random.Generator):
    """The medium with its bezel / white margin, placed tilted on a wall; frame-sized."""
    h, w = medium.shape[:2]
    rim = max(4, int(0.07 * w))
    colour = (20.0, 20.0, 22.0) if kind == "screen" else (235.0, 232.0, 220.0)
    framed = np.empty((h + 2 * rim, w + 2 * rim, 3), np.float32)
    framed[:] = colour
    framed[rim : rim + h, rim : rim + w] = medium
    fh, fw = framed.shape[:2]
    th = FRAME_H * height_frac
    tw = th * fw / fh
    cx = FRAME_W / 2 + rng.uniform(-0.08, 0.08) * FRAME_W
    cy = FRAME_H / 2 + rng.uniform(-0.05, 0.05) * FRAME_H
    corners = np.array(
        [[cx - tw / 2, cy - th / 2], [cx + tw / 2, cy - th / 2],
         [cx + tw / 2, cy + th / 2], [cx - tw / 2, cy + th / 2]],
        np.float32,
    )  # fmt: skip
    corners += (rng.uniform(-0.05, 0.05, (4, 2)) * np.array([tw, th])).astype(np.float32)
    src = np.array([[0, 0], [fw, 0], [fw, fh], [0, fh]], np.float32)
    m = cv2.getPerspectiveTransform(src, corners)
    warped = cv2.warpPerspective(framed, m, (FRAME_W, FRAME_H), flags=cv2.INTER_LINEAR)
    mask = cv2.warpPerspective(
        np.ones((fh, fw), np.float32), m, (FRAME_W, FRAME_H), flags=cv2.INTER_LINEAR
    )[:, :, None]
    return mask * warped + (1.0 - mask) * _background(rng)


def _fill(image: np.ndarray, box: Box, face_frac: float) -> tuple[np.ndarray, Box]:
    """The scene scaled so the face is ``face_frac`` of the frame height, on a canvas wide
    enough to fill the frame (a large medium: no edge in view); the frame and its face box."""
    h, w = image.shape[:2]
    x, y, bw, bh = box
    s = face_frac * FRAME_H / max(bh, 1.0)
    big = cv2.resize(image, (max(1, round(w * s)), max(1, round(h * s))))
    border = np.concatenate([big[0], big[-1], big[:, 0], big[:, -1]]).mean(0)
    canvas = np.empty((FRAME_H, FRAME_W, 3), np.float32)
    canvas[:] = border
    cx, cy = (x + bw / 2) * s, (y + bh / 2) * s
    ox, oy = round(FRAME_W / 2 - cx), round(FRAME_H / 2 - cy)
    x0, y0 = max(0, ox), max(0, oy)
    x1, y1 = min(FRAME_W, ox + big.shape[1]), min(FRAME_H, oy + big.shape[0])
    canvas[y0:y1, x0:x1] = big[y0 - oy : y1 - oy, x0 - ox : x1 - ox]
    return canvas, (x * s + ox, y * s + oy, bw * s, bh * s)


def recapture(frame: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The kiosk camera's own pass: a little optical blur, sensor noise and JPEG."""
    f = cv2.GaussianBlur(np.clip(frame, 0, 255).astype(np.uint8), (0, 0), 0.7)
    return jpeg(sensor_noise(f, rng, 3.0), 85)


@dataclass(frozen=True)
class AttackKind:
    """One attack: the medium, whether its edge is in view, and how near it is held."""

    name: str
    medium: str  # "screen" | "print"
    edge: bool
    near: bool

    def render(self, image: np.ndarray, box: Box, seed: int, index: int = 0) -> np.ndarray:
        """The 640x480 RGB uint8 camera frame of this attack made from ``image`` (face ``box``)."""
        rng = np.random.default_rng([seed, zlib.crc32(self.name.encode()), index])
        make = screen if self.medium == "screen" else paper
        if self.edge:
            content, _ = _portrait(image, box, 2.4)
            side = 360 if self.medium == "screen" else 480
            content = cv2.resize(
                content,
                (max(1, round(content.shape[1] * side / content.shape[0])), side),
                interpolation=cv2.INTER_AREA,
            )
            frame = _with_edge(make(content, rng), self.medium, 0.95 if self.near else 0.5, rng)
        else:
            # The medium fills the view: what the camera sees of it, made into that medium.
            filled, _ = _fill(image, box, 0.45 if self.near else 0.25)
            frame = make(np.clip(filled, 0, 255).astype(np.uint8), rng)
        return np.ascontiguousarray(recapture(frame, rng))


ATTACKS: tuple[AttackKind, ...] = tuple(
    AttackKind(f"{medium}_{'edge' if edge else 'noedge'}_{'near' if near else 'far'}",
               medium, edge, near)
    for medium in ("screen", "print")
    for edge in (True, False)
    for near in (True, False)
)  # fmt: skip

ATTACK_NAMES = tuple(a.name for a in ATTACKS)


def bona_fide_frame(image: np.ndarray, seed: int, index: int = 0) -> np.ndarray:
    """A bona fide photo through the same camera pass as the attacks (fair comparison)."""
    rng = np.random.default_rng([seed, zlib.crc32(b"bona_fide"), index])
    return np.ascontiguousarray(recapture(image.astype(np.float32), rng))
