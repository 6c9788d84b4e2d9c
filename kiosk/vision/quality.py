"""Quality gate: measures of one frame and the first failing check as a coaching code.

The checks are a declarative table, tried in order; the first failure is the one instruction
the person hears. Only the eyes and the lower face are examined for occlusion, so head
coverings (hijab, peci, caps) never trigger anything.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from kiosk.core.biometrics import Coaching
from kiosk.vision.detector import Detection
from kiosk.vision.mesh import (
    CHEEK_LEFT,
    CHEEK_RIGHT,
    CHIN,
    LEFT_EYE,
    MOUTH_LEFT,
    MOUTH_RIGHT,
    NOSE_TIP,
    RIGHT_EYE,
    Mesh,
)
from kiosk.vision.subject import SubjectRule, oval_distance

GLABELLA = 9
NOSE_BRIDGE = 168  # between the eyes: skin above any mask, below any head covering
UNDER_EYE_RIGHT, UNDER_EYE_LEFT = 50, 280


@dataclass(frozen=True)
class QualityLimits:
    """Thresholds of the gate (fractions of the frame, degrees, 0..255 luma, ratios)."""

    min_face_frac: float = 0.16
    max_face_frac: float = 0.80
    min_face_px: float = 72.0
    max_center_offset: float = 1.0  # face centre outside the guide oval (oval radii)
    max_yaw_deg: float = 25.0
    max_pitch_deg: float = 25.0
    max_roll_deg: float = 20.0
    min_eye_ratio: float = 0.14
    sunglasses_ratio: float = 0.35
    mask_texture: float = 0.05
    mask_luma_step: float = 0.2  # relative luma step from the upper face to a mask
    mask_chroma_step: float = 0.05  # chromaticity step from the skin to a mask (r, g, b sums)
    max_glare: float = 0.06  # fraction of the face at full white with a normal mean: glare
    glare_max_luma: float = 165.0  # white spots on a brighter face: over-exposed, not glare
    min_luma: float = 55.0
    max_luma: float = 215.0
    max_clipped: float = 0.25
    backlight_delta: float = 70.0
    min_sharpness: float = 12.0


@dataclass(frozen=True)
class QualityMetrics:
    """Measures of the main face in one frame."""

    faces: int
    face_frac: float
    face_px: float
    center_offset: float  # face centre from the guide oval's centre, in oval radii
    yaw: float
    pitch: float
    roll: float
    eye_ratio: float
    eye_luma_ratio: float
    lower_texture: float
    lower_step: float  # luma change from the upper face to the lower face, relative
    lower_chroma_step: float  # chromaticity distance between the upper and the lower face
    face_luma: float
    clipped: float
    skin_luma: float  # mean luma of the face without its clipped (white) pixels
    background_luma: float
    sharpness: float


def _patch(gray: np.ndarray, center: np.ndarray, half: int) -> np.ndarray:
    h, w = gray.shape[:2]
    x, y = round(float(center[0])), round(float(center[1]))
    x0, y0 = max(0, x - half), max(0, y - half)
    x1, y1 = min(w, x + half + 1), min(h, y + half + 1)
    if x1 <= x0 or y1 <= y0:
        return np.zeros((1, 1, *gray.shape[2:]), gray.dtype)
    return gray[y0:y1, x0:x1]


def _mean(patch: np.ndarray) -> float:
    # cv2.mean is several times quicker than ndarray.mean on the small patches measured here.
    return float(cv2.mean(patch)[0])


def _chroma(rgb: np.ndarray) -> np.ndarray:
    total = max(float(rgb.sum()), 1.0)
    return rgb / total


def measure(
    image: np.ndarray,
    main: Detection,
    mesh: Mesh,
    faces: int = 1,
    rule: SubjectRule | None = None,
) -> QualityMetrics:
    """Measures of the subject ``main`` (with its ``mesh``) in ``image``; ``faces`` plausible."""
    h, w = image.shape[:2]
    offset = oval_distance(main, w, h, rule or SubjectRule())
    yaw, pitch, roll = mesh.pose()
    gray = cv2.cvtColor(mesh.crop, cv2.COLOR_RGB2GRAY)
    lm = mesh.crop_landmarks[:, :2]
    # Face skin region: the central part of the crop (the face box is 1/1.5 of the crop).
    face = gray[48:144, 48:144]
    face_luma = _mean(face)
    unclipped = face < 250
    clipped = 1.0 - np.count_nonzero(unclipped) / face.size
    # The skin's own brightness, white spots left out: tells glare from over-exposure.
    skin_luma = float(cv2.mean(face, mask=unclipped.view(np.uint8))[0]) if clipped < 1 else 255.0
    background_luma = sum(cv2.mean(image[:: max(1, h // 60), :: max(1, w // 80)])[:3]) / 3.0
    # Sharpness: Laplacian variance of the face at the crop's fixed scale (96x96 centre).
    sharp = float(cv2.meanStdDev(cv2.Laplacian(face, cv2.CV_32F))[1][0, 0]) ** 2
    # Occlusion: eye patches against cheeks and brow; a mask leaves the lower face flat.
    r_eye, l_eye = lm[list(RIGHT_EYE)], lm[list(LEFT_EYE)]
    eye_half = max(2, int(0.35 * math.hypot(*(r_eye[0] - r_eye[3]))))
    eyes = np.concatenate(
        [
            _patch(gray, r_eye.mean(0), eye_half).ravel(),
            _patch(gray, l_eye.mean(0), eye_half).ravel(),
        ]
    )
    upper = [_patch(gray, lm[i], 5) for i in (GLABELLA, UNDER_EYE_RIGHT, UNDER_EYE_LEFT)]
    ref_luma = max(_mean(p) for p in upper)
    # Open eyes show bright sclera and lids (90th percentile near the skin's luma); dark
    # lenses leave the whole patch dark.
    k = int(0.9 * (eyes.size - 1))
    eye_luma_ratio = float(np.partition(eyes, k)[k]) / max(ref_luma, 1.0)
    lower_pts = (
        lm[NOSE_TIP],
        (lm[MOUTH_RIGHT] + lm[CHEEK_RIGHT]) / 2,
        (lm[MOUTH_LEFT] + lm[CHEEK_LEFT]) / 2,
        (lm[MOUTH_RIGHT] + lm[MOUTH_LEFT] + 2 * lm[CHIN]) / 4,
    )
    lower_gray = np.concatenate([_patch(gray, p, 5).ravel() for p in lower_pts])
    # Contrast of the lower face relative to its brightness (unchanged by exposure).
    lower_mean, lower_std = cv2.meanStdDev(lower_gray)
    texture = float(lower_std[0, 0]) / max(float(lower_mean[0, 0]), 1.0)
    # A mask differs from the skin above it in brightness or colour; an over-exposed or dim
    # face flattens the lower face too, but keeps upper and lower skin alike.
    crop = mesh.crop
    upper_rgb = np.mean(
        [cv2.mean(_patch(crop, lm[i], 5))[:3] for i in (GLABELLA, NOSE_BRIDGE)], axis=0
    )
    lower_rgb = np.mean([cv2.mean(_patch(crop, p, 5))[:3] for p in lower_pts], axis=0)
    upper_l, lower_l = float(upper_rgb.mean()), float(lower_rgb.mean())
    step = abs(lower_l - upper_l) / max(upper_l, lower_l, 1.0)
    chroma_step = float(np.abs(_chroma(lower_rgb) - _chroma(upper_rgb)).sum())
    return QualityMetrics(
        faces=faces,
        face_frac=main.size / min(w, h),
        face_px=main.size,
        center_offset=offset,
        yaw=yaw,
        pitch=pitch,
        roll=roll,
        eye_ratio=mesh.eye_ratio(),
        eye_luma_ratio=eye_luma_ratio,
        lower_texture=texture,
        lower_step=step,
        lower_chroma_step=chroma_step,
        face_luma=face_luma,
        clipped=clipped,
        skin_luma=skin_luma,
        background_luma=background_luma,
        sharpness=sharp,
    )


Check = Callable[[QualityMetrics, QualityLimits], bool]

# (code, "fails when"), tried in order: the first failure is the coaching given.
CHECKS: tuple[tuple[Coaching, Check], ...] = (
    (Coaching.MULTIPLE_FACES, lambda m, q: m.faces > 1),
    (Coaching.TOO_FAR, lambda m, q: m.face_frac < q.min_face_frac or m.face_px < q.min_face_px),
    (Coaching.TOO_CLOSE, lambda m, q: m.face_frac > q.max_face_frac),
    (Coaching.OFF_CENTER, lambda m, q: m.center_offset > q.max_center_offset),
    # Light before anything read off the face's texture: a dark, washed-out or back-lit face
    # looks masked, blurred or closed-eyed, and the person must hear about the light.
    (Coaching.TOO_DARK, lambda m, q: m.face_luma < q.min_luma),
    (
        Coaching.TOO_BRIGHT,
        lambda m, q: (
            m.face_luma > q.max_luma
            or m.clipped > q.max_clipped
            or (m.clipped > q.max_glare and m.skin_luma > q.glare_max_luma)
        ),
    ),
    (
        Coaching.BACKLIGHT,
        lambda m, q: m.background_luma - m.face_luma > q.backlight_delta,
    ),
    (
        Coaching.LOOK_STRAIGHT,
        lambda m, q: abs(m.yaw) > q.max_yaw_deg or abs(m.pitch) > q.max_pitch_deg,
    ),
    (Coaching.HEAD_LEVEL, lambda m, q: abs(m.roll) > q.max_roll_deg),
    (Coaching.GLARE, lambda m, q: m.clipped > q.max_glare),
    (Coaching.SUNGLASSES, lambda m, q: m.eye_luma_ratio < q.sunglasses_ratio),
    (
        Coaching.MASK,
        lambda m, q: (
            m.lower_texture < q.mask_texture
            and (m.lower_step > q.mask_luma_step or m.lower_chroma_step > q.mask_chroma_step)
        ),
    ),
    (Coaching.EYES_CLOSED, lambda m, q: m.eye_ratio < q.min_eye_ratio),
    (Coaching.BLURRY, lambda m, q: m.sharpness < q.min_sharpness),
)


def first_failure(m: QualityMetrics, limits: QualityLimits) -> Coaching:
    """The coaching code of the first failed check, or ``Coaching.OK``."""
    for code, fails in CHECKS:
        if fails(m, limits):
            return code
    return Coaching.OK


def frame_score(m: QualityMetrics, det_score: float) -> float:
    """0..1 score used to keep the best frame: sharp, frontal, large, confidently detected."""
    sharp = min(1.0, m.sharpness / 100.0)
    frontal = max(0.0, 1.0 - (abs(m.yaw) + abs(m.pitch) + abs(m.roll)) / 90.0)
    size = min(1.0, m.face_frac / 0.4)
    return float(det_score * (0.4 * sharp + 0.4 * frontal + 0.2 * size))
