"""Which detected face is the person using the kiosk: a rule, not the largest box.

Every candidate gets a weight from four things: the detector's score, where its centre sits
relative to the guide oval drawn on the capture screen, its size in the frame, and whether it
continues the face followed in the previous frames (IoU or centre continuity). The heaviest
candidate is the subject; any other candidate nearly as heavy is a *rival*, and two plausible
faces are coached ("Hanya satu orang di depan kamera") instead of guessed between. A poster or
a person behind the villager is smaller, off-centre or outside the oval, so it weighs little.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from kiosk.vision.detector import Detection

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class SubjectRule:
    """Weights of the subject choice (fractions of the frame; the oval mirrors kiosk.css)."""

    oval_cx: float = 0.5  # oval centre, fraction of the frame width
    oval_cy: float = 0.5  # oval centre, fraction of the frame height
    oval_rx: float = 0.23  # half-width, fraction of the frame width (.oval width 46 %)
    oval_ry: float = 0.42  # half-height, fraction of the frame height (.oval height 84 %)
    outside_falloff: float = 0.5  # weight falls to the floor this far (oval radii) outside
    outside_floor: float = 0.05  # weight of a face well outside the oval
    full_size_frac: float = 0.30  # faces at least this big (of the short side) weigh fully
    min_score: float = 0.5  # detections below this detector score are ignored
    track_bonus: float = 1.6  # weight factor of the face that continues the tracked one
    track_iou: float = 0.3  # IoU with the tracked box that counts as the same face
    track_centre: float = 0.5  # or: centre within this fraction of the tracked box size
    rival_ratio: float = 0.5  # another face this heavy (vs the subject) is a second person


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two (x, y, w, h) boxes."""
    ax1, ay1, bx1, by1 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    iw = max(0.0, min(ax1, bx1) - max(a[0], b[0]))
    ih = max(0.0, min(ay1, by1) - max(a[1], b[1]))
    inter = iw * ih
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def oval_distance(det: Detection, width: int, height: int, rule: SubjectRule) -> float:
    """Distance of the face centre from the oval centre in oval radii (<= 1: inside)."""
    cx, cy = det.center
    dx = (cx / width - rule.oval_cx) / rule.oval_rx
    dy = (cy / height - rule.oval_cy) / rule.oval_ry
    return math.hypot(dx, dy)


def continues(det: Detection, track: Box | None, rule: SubjectRule) -> bool:
    """True when ``det`` is the same face as the tracked box (overlap or nearby centre)."""
    if track is None:
        return False
    if iou(det.box, track) >= rule.track_iou:
        return True
    tx, ty = track[0] + track[2] / 2, track[1] + track[3] / 2
    cx, cy = det.center
    size = max(track[2], track[3], 1.0)
    ratio = det.size / size
    return math.hypot(cx - tx, cy - ty) <= rule.track_centre * size and 0.67 <= ratio <= 1.5


def weight(det: Detection, width: int, height: int, rule: SubjectRule) -> float:
    """How plausibly ``det`` is a person using the kiosk (0 below the detector floor)."""
    if det.score < rule.min_score:
        return 0.0
    d = oval_distance(det, width, height, rule)
    inside = 1.0 if d <= 1.0 else max(rule.outside_floor, 1.0 - (d - 1.0) / rule.outside_falloff)
    # Squared: weight follows the face's area, so a face half as wide behind weighs a quarter.
    size = min(1.0, det.size / (rule.full_size_frac * min(width, height))) ** 2
    return det.score * inside * size


@dataclass(frozen=True)
class Subject:
    """The chosen face (or None) and how many plausible faces the frame shows."""

    detection: Detection | None
    plausible: int


def choose_subject(
    dets: Sequence[Detection],
    width: int,
    height: int,
    track: Box | None = None,
    rule: SubjectRule | None = None,
) -> Subject:
    """The subject among ``dets`` of a ``width`` x ``height`` frame, given the tracked box."""
    rule = rule or SubjectRule()
    base = [weight(d, width, height, rule) for d in dets]
    # The tracked face wins ties and near-ties: the subject does not flip between frames.
    ranked = [
        (w * (rule.track_bonus if continues(d, track, rule) else 1.0), i)
        for i, (d, w) in enumerate(zip(dets, base, strict=True))
        if w > 0.0
    ]
    if not ranked:
        return Subject(None, 0)
    _, best = max(ranked)
    # Rivals are judged without the bonus: following one person never hides a second one.
    rivals = sum(1 for _, i in ranked if base[i] >= rule.rival_ratio * base[best])
    return Subject(dets[best], rivals)
