"""The subject is the villager, not the largest face: posters and people behind are ignored."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from kiosk.config import REPO_ROOT
from kiosk.core.biometrics import Coaching, MatchBand
from kiosk.vision.detector import Detection, weighted_nms_rows
from kiosk.vision.images import load_image
from kiosk.vision.pipeline import FacePipeline
from kiosk.vision.subject import SubjectRule, choose_subject, iou, oval_distance

IDENTITIES = REPO_ROOT.parent / "shared" / "faces" / "identities"

W, H = 640, 480


def _det(cx: float, cy: float, size: float, score: float = 0.95) -> Detection:
    box = (cx - size / 2, cy - size / 2, size, size)
    return Detection(box, score, np.zeros((6, 2), np.float32))


def _face_patch(pipeline: FacePipeline, name: str, side: int) -> np.ndarray:
    """The face of ``name`` with some hair and neck around it, ``side`` pixels square."""
    image = load_image(IDENTITIES / name)
    det = max(pipeline.detector.detect(image), key=lambda d: d.size)
    cx, cy = det.center
    half = det.size * 0.9
    h, w = image.shape[:2]
    x0, y0 = int(max(0, cx - half)), int(max(0, cy - half))
    x1, y1 = int(min(w, cx + half)), int(min(h, cy + half))
    return cv2.resize(image[y0:y1, x0:x1], (side, side), interpolation=cv2.INTER_AREA)


def _paste(canvas: np.ndarray, patch: np.ndarray, cx: int, cy: int) -> None:
    s = patch.shape[0]
    x0, y0 = cx - s // 2, cy - s // 2
    xs, ys = max(0, x0), max(0, y0)
    xe, ye = min(canvas.shape[1], x0 + s), min(canvas.shape[0], y0 + s)
    canvas[ys:ye, xs:xe] = patch[ys - y0 : ye - y0, xs - x0 : xe - x0]


def _scene(pipeline: FacePipeline, *faces: tuple[str, int, int, int]) -> np.ndarray:
    """A grey office wall with faces (name, side px, centre x, centre y), back to front."""
    canvas = np.full((H, W, 3), (150, 140, 130), np.uint8)
    for name, side, cx, cy in faces:
        _paste(canvas, _face_patch(pipeline, name, side), cx, cy)
    return canvas


VILLAGER = "p03/img8.jpg"
VILLAGER_REF = "p03/img47.jpg"


@pytest.fixture(scope="module")
def villager_ref(pipeline: FacePipeline) -> np.ndarray:
    return pipeline.embed_image(load_image(IDENTITIES / VILLAGER_REF))


def _inside(box: tuple[float, float, float, float] | None, cx: int, cy: int) -> bool:
    assert box is not None
    x, y, w, h = box
    return x <= cx <= x + w and y <= cy <= y + h


def test_a_larger_poster_outside_the_oval_is_not_the_subject(
    pipeline: FacePipeline, villager_ref: np.ndarray
) -> None:
    frame = _scene(pipeline, ("p09/img25.jpg", 300, 560, 150), (VILLAGER, 260, 320, 250))
    dets = pipeline.detector.detect(frame)
    assert len(dets) >= 2 and max(dets, key=lambda d: d.size).center[0] > 450  # poster is larger
    a = pipeline.analyze(frame)
    assert _inside(a.box, 320, 250) and a.faces == 1
    assert a.coaching is Coaching.OK
    r = pipeline.verify(a, villager_ref)
    assert r.match is MatchBand.HIGH


def test_a_smaller_person_behind_is_ignored(
    pipeline: FacePipeline, villager_ref: np.ndarray
) -> None:
    frame = _scene(pipeline, ("p05/img16.jpg", 120, 430, 170), (VILLAGER, 260, 300, 260))
    a = pipeline.analyze(frame)
    assert _inside(a.box, 300, 260) and a.faces == 1 and a.coaching is Coaching.OK
    assert pipeline.verify(a, villager_ref).match is MatchBand.HIGH


def test_two_people_in_the_oval_are_coached_not_guessed(pipeline: FacePipeline) -> None:
    frame = _scene(pipeline, ("p09/img25.jpg", 230, 215, 240), (VILLAGER, 230, 425, 240))
    a = pipeline.analyze(frame)
    assert a.coaching is Coaching.MULTIPLE_FACES and a.faces == 2


def test_the_tracked_face_is_kept_when_a_similar_one_appears_at_the_edge() -> None:
    rule = SubjectRule()
    villager = _det(300, 240, 200)
    newcomer = _det(560, 240, 220)  # a bit larger, at the right edge of the frame
    assert choose_subject([newcomer, villager], W, H, villager.box, rule).detection is villager
    first = choose_subject([newcomer, villager], W, H, None, rule)
    assert first.detection is villager and first.plausible == 1


def test_a_second_face_in_the_oval_stays_a_rival_even_when_tracking() -> None:
    villager = _det(240, 240, 180)
    leaning_in = _det(420, 230, 170)
    s = choose_subject([villager, leaning_in], W, H, villager.box)
    assert s.detection is villager and s.plausible == 2


def test_low_scores_and_nothing_give_no_subject() -> None:
    assert choose_subject([], W, H).detection is None
    assert choose_subject([_det(320, 240, 200, score=0.3)], W, H).detection is None


def test_oval_geometry() -> None:
    rule = SubjectRule()
    assert oval_distance(_det(320, 240, 100), W, H, rule) == pytest.approx(0.0)
    assert oval_distance(_det(320 + 0.23 * W, 240, 100), W, H, rule) == pytest.approx(1.0)
    assert iou((0, 0, 10, 10), (5, 0, 10, 10)) == pytest.approx(1 / 3)
    assert iou((0, 0, 10, 10), (20, 20, 5, 5)) == 0.0


def test_nms_keeps_a_face_apart_from_a_larger_box_around_it() -> None:
    face = [100, 100, 200, 200]
    poster = [60, 60, 300, 300]  # IoU 0.17 would merge at 0.1; sizes differ 2.4x
    near_face = [104, 102, 204, 202]
    rows = np.array([face + [0] * 12, poster + [0] * 12, near_face + [0] * 12], np.float32)
    out = weighted_nms_rows(rows, np.array([0.9, 0.95, 0.8], np.float32), iou=0.1)
    assert len(out) == 2
    boxes = sorted(tuple(r[:4].round()) for r, _ in out)
    assert boxes[0] == (60, 60, 300, 300) and boxes[1][0] == pytest.approx(102, abs=1)
