"""The face pipeline on real photos: detection, mesh, quality coaching, liveness, matching."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from kiosk.config import REPO_ROOT, BiometricsConfig, KioskConfig
from kiosk.core.biometrics import Coaching, LivenessBand, MatchBand
from kiosk.crypto.atrest import AtRestCipher
from kiosk.errors import CryptoError, ImageError
from kiosk.vision.align import ARCFACE_TEMPLATE, align_face, similarity_transform
from kiosk.vision.detector import (
    FULL_RANGE,
    SHORT_RANGE,
    LiteRtBlazeFace,
    MediaPipeTasksDetector,
    make_anchors,
    weighted_nms_rows,
)
from kiosk.vision.embedder import (
    cosine,
    open_template,
    seal_template,
    template_from_bytes,
    template_to_bytes,
)
from kiosk.vision.images import load_image
from kiosk.vision.models import ModelPack
from kiosk.vision.pipeline import BestFrameKeeper, FacePipeline, FrameAnalysis

FACES = REPO_ROOT.parent / "shared" / "faces"


def _img(rel: str) -> np.ndarray:
    return load_image(FACES / "identities" / rel)


def _iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    ax1, ay1, bx1, by1 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    iw = max(0.0, min(ax1, bx1) - max(a[0], b[0]))
    ih = max(0.0, min(ay1, by1) - max(a[1], b[1]))
    inter = iw * ih
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def test_anchor_tables_match_the_models() -> None:
    assert make_anchors(SHORT_RANGE).shape == (896, 2)
    assert make_anchors(FULL_RANGE).shape == (2304, 2)


def test_nms_averages_overlapping_candidates_by_score() -> None:
    rows = np.array(
        [
            [0, 0, 10, 10, 5, 5],  # two views of one face ...
            [2, 0, 12, 10, 7, 5],
            [50, 50, 60, 60, 55, 55],  # ... and another face
        ],
        np.float32,
    )
    out = weighted_nms_rows(rows, np.array([0.6, 0.9, 0.7], np.float32))
    assert [round(score, 2) for _, score in out] == [0.9, 0.7]
    np.testing.assert_allclose(out[0][0], [1.2, 0, 11.2, 10, 6.2, 5], rtol=1e-6)
    np.testing.assert_allclose(out[1][0], rows[2])


def test_nms_ends_on_a_degenerate_box() -> None:
    rows = np.array([[5, 5, 5, 5], [5, 5, 5, 5], [0, 0, 4, 4]], np.float32)  # zero-area boxes
    out = weighted_nms_rows(rows, np.array([0.9, 0.8, 0.7], np.float32))
    assert [round(score, 2) for _, score in out] == [0.9, 0.8, 0.7]


@pytest.mark.parametrize("rel", ["p01/img10.jpg", "p03/img8.jpg", "p05/img17.jpg", "p09/img25.jpg"])
def test_litert_decoder_agrees_with_mediapipe_tasks(pack: ModelPack, rel: str) -> None:
    image = _img(rel)
    ours = LiteRtBlazeFace(pack["detector"], SHORT_RANGE).detect(image)
    tasks = MediaPipeTasksDetector(pack["detector"].path)
    try:
        ref = tasks.detect(image)
    finally:
        tasks.close()
    assert len(ours) == len(ref) == 1
    assert _iou(ours[0].box, ref[0].box) > 0.85
    assert abs(ours[0].score - ref[0].score) < 0.1
    assert np.abs(ours[0].keypoints - ref[0].keypoints).max() < 0.08 * ours[0].size


def test_good_photo_passes_the_gate(pipeline: FacePipeline, face_image: np.ndarray) -> None:
    a = pipeline.analyze(face_image)
    assert a.ok and a.faces == 1 and a.usable
    assert a.box is not None and a.score > 0.5
    assert a.metrics is not None and a.metrics.eye_ratio > 0.2


def test_blank_frame_has_no_face(pipeline: FacePipeline) -> None:
    a = pipeline.analyze(np.full((480, 640, 3), 127, np.uint8))
    assert a.coaching is Coaching.NO_FACE and not a.usable and a.box is None
    with pytest.raises(ImageError, match="no usable face"):
        pipeline.verify(a, None)
    with pytest.raises(ImageError, match="no usable face"):
        pipeline.embed_image(a.image)


def test_two_people_is_coached(pipeline: FacePipeline) -> None:
    left = cv2.resize(_img("p03/img8.jpg"), (320, 480))
    right = cv2.resize(_img("p09/img25.jpg"), (320, 480))
    a = pipeline.analyze(np.hstack([left, right]))
    assert a.coaching is Coaching.MULTIPLE_FACES and a.faces == 2


def _place(face: np.ndarray, scale: float, dx: int = 0, dy: int = 0) -> np.ndarray:
    canvas = np.full((480, 640, 3), 120, np.uint8)
    h, w = face.shape[:2]
    s = scale * 480 / h
    small = cv2.resize(face, (max(1, int(w * s)), max(1, int(h * s))), interpolation=cv2.INTER_AREA)
    sh, sw = small.shape[:2]
    y, x = (480 - sh) // 2 + dy, (640 - sw) // 2 + dx
    canvas[y : y + sh, x : x + sw] = small
    return canvas


def test_small_face_is_asked_to_come_closer(pipeline: FacePipeline, face_image: np.ndarray) -> None:
    a = pipeline.analyze(_place(face_image, 0.22))
    assert a.coaching is Coaching.TOO_FAR


def test_off_centre_face_is_coached(pipeline: FacePipeline, face_image: np.ndarray) -> None:
    a = pipeline.analyze(_place(face_image, 0.7, dx=200))
    assert a.coaching is Coaching.OFF_CENTER


def test_dark_frame_is_coached(pipeline: FacePipeline, face_image: np.ndarray) -> None:
    a = pipeline.analyze((face_image * 0.22).astype(np.uint8))
    assert a.coaching is Coaching.TOO_DARK


def test_blurred_frame_is_coached(pipeline: FacePipeline, face_image: np.ndarray) -> None:
    a = pipeline.analyze(cv2.GaussianBlur(face_image, (0, 0), 12))
    assert a.coaching is Coaching.BLURRY


def _landmarks(pipeline: FacePipeline, image: np.ndarray) -> np.ndarray:
    a = pipeline.analyze(image)
    assert a.mesh is not None
    return a.mesh.landmarks[:, :2]


def test_sunglasses_are_asked_off(pipeline: FacePipeline, face_image: np.ndarray) -> None:
    img = face_image.copy()
    lm = _landmarks(pipeline, img)
    d = float(np.linalg.norm(lm[33] - lm[263]))
    for idx in ((33, 133), (362, 263)):
        c = (lm[idx[0]] + lm[idx[1]]) / 2
        axes = (int(d * 0.26), int(d * 0.2))
        cv2.ellipse(img, (int(c[0]), int(c[1])), axes, 0, 0, 360, (20, 20, 25), -1)
    assert pipeline.analyze(img).coaching is Coaching.SUNGLASSES


@pytest.mark.parametrize("colour", [(120, 170, 220), (235, 235, 240), (30, 30, 30)])
def test_mask_is_asked_off(
    pipeline: FacePipeline, face_image: np.ndarray, colour: tuple[int, int, int]
) -> None:
    img = face_image.copy()
    lm = _landmarks(pipeline, img)
    hull = cv2.convexHull(lm[[234, 454, 152, 176, 400, 58, 288, 5, 4]].astype(np.int32))
    cv2.fillConvexPoly(img, hull, colour)
    assert pipeline.analyze(img).coaching is Coaching.MASK


@pytest.mark.parametrize("colour", [(20, 20, 60), (230, 230, 235)])
def test_head_covering_is_never_coached(
    pipeline: FacePipeline, face_image: np.ndarray, colour: tuple[int, int, int]
) -> None:
    """A hijab-like cloth over hair, forehead edge, ears and neck sides passes the gate."""
    img = face_image.copy()
    lm = _landmarks(pipeline, img)
    brow_y = int(lm[[70, 300, 105, 334], 1].min())
    forehead_y = int((lm[10, 1] + brow_y) / 2)
    left_x, right_x = int(lm[234, 0]), int(lm[454, 0])
    chin_y = int(lm[152, 1])
    cloth = np.array(
        [
            [left_x - 200, chin_y + 200],
            [left_x - 200, 0],
            [right_x + 200, 0],
            [right_x + 200, chin_y + 200],
            [right_x + 5, chin_y + 200],
            [right_x + 5, forehead_y],
            [left_x - 5, forehead_y],
            [left_x - 5, chin_y + 200],
        ],
        np.int32,
    )
    cv2.fillPoly(img, [cloth], colour)
    a = pipeline.analyze(img)
    assert a.usable
    assert a.coaching not in (Coaching.SUNGLASSES, Coaching.MASK)
    assert a.coaching is Coaching.OK


def test_head_pose_sign_flips_with_a_mirror(pipeline: FacePipeline) -> None:
    img = _img("p05/img61.jpg")  # turned about 14 degrees
    a, b = pipeline.analyze(img), pipeline.analyze(np.ascontiguousarray(img[:, ::-1]))
    assert a.mesh is not None and b.mesh is not None
    ya, yb = a.mesh.pose()[0], b.mesh.pose()[0]
    assert abs(ya) > 8 and ya * yb < 0


def test_same_person_matches_and_others_do_not(pipeline: FacePipeline) -> None:
    ref = pipeline.embed_image(_img("p03/img8.jpg"))
    same = pipeline.verify(_img("p03/img47.jpg"), ref)
    other = pipeline.verify(_img("p01/img10.jpg"), ref)
    assert same.match in (MatchBand.HIGH, MatchBand.MEDIUM)
    assert other.match is MatchBand.NONE
    assert same.embedding.shape == (128,) and same.embedding.dtype == np.float32
    assert abs(float(np.linalg.norm(same.embedding)) - 1.0) < 1e-4
    no_ref = pipeline.verify(_img("p03/img47.jpg"), None)
    assert no_ref.match is None and no_ref.similarity is None


def test_liveness_samples_are_judged_right(pipeline: FacePipeline) -> None:
    real = pipeline.verify(load_image(FACES / "liveness/real/image_T1.jpg"), None)
    assert real.liveness is LivenessBand.LIVE
    for name in ("image_F1.jpg", "image_F2.jpg"):
        spoof = pipeline.verify(load_image(FACES / "liveness/spoof" / name), None)
        assert spoof.liveness is not LivenessBand.LIVE


def test_spoof_suspicion_is_logged_without_personal_data(
    pipeline: FacePipeline, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("WARNING", logger="kiosk.vision"):
        pipeline.verify(load_image(FACES / "liveness/spoof/image_F1.jpg"), None)
    msgs = [r.getMessage() for r in caplog.records if r.name == "kiosk.vision"]
    assert any("spoof suspicion" in m for m in msgs)
    assert all("image_F1" not in m for m in msgs)


def test_thresholds_come_from_config(pack: ModelPack) -> None:
    strict = FacePipeline(
        pack, BiometricsConfig(match_high=0.99, match_medium=0.98, match_low=0.97)
    )
    ref = strict.embed_image(_img("p03/img8.jpg"))
    assert strict.verify(_img("p03/img47.jpg"), ref).match is MatchBand.NONE


def test_alignment_maps_template_points_exactly() -> None:
    m = similarity_transform(ARCFACE_TEMPLATE * 2 + 10, ARCFACE_TEMPLATE)
    pts = (ARCFACE_TEMPLATE * 2 + 10) @ m[:, :2].T + m[:, 2]
    assert np.allclose(pts, ARCFACE_TEMPLATE, atol=1e-6)
    with pytest.raises(ImageError, match="degenerate"):
        similarity_transform(np.zeros((5, 2)), ARCFACE_TEMPLATE)
    with pytest.raises(ImageError, match="finite"):
        align_face(np.zeros((50, 50, 3), np.uint8), np.full((5, 2), np.nan))


def test_templates_round_trip_and_seal(tmp_path: Path) -> None:
    v = np.random.default_rng(1).normal(size=128).astype(np.float32)
    assert np.array_equal(template_from_bytes(template_to_bytes(v)), v)
    with pytest.raises(ValueError):
        template_from_bytes(b"KFT1" + b"\0" * 10)
    with pytest.raises(ValueError):
        template_to_bytes(np.full(128, np.nan, np.float32))
    cipher = AtRestCipher(b"k" * 32)
    sealed = seal_template(cipher, v, "template:abc")
    assert template_to_bytes(v) not in sealed
    assert np.array_equal(open_template(cipher, sealed, "template:abc"), v)
    with pytest.raises(CryptoError):
        open_template(cipher, sealed, "template:other")
    assert cosine(v, v) == pytest.approx(1.0)


def test_best_frame_keeper_prefers_passing_then_score(
    pipeline: FacePipeline, face_image: np.ndarray
) -> None:
    keeper = BestFrameKeeper()
    good = pipeline.analyze(face_image)
    dark = pipeline.analyze((face_image * 0.22).astype(np.uint8))
    blank = pipeline.analyze(np.zeros((480, 640, 3), np.uint8))
    assert not keeper.offer(blank) and keeper.best is None
    assert keeper.offer(dark)
    assert keeper.offer(good) and keeper.best is good
    boosted = FrameAnalysis(dark.image, 1, dark.coaching, dark.detection, dark.mesh, score=9.0)
    assert not keeper.offer(boosted)
    keeper.clear()
    assert keeper.best is None


def test_grey_frame_is_handled(pipeline: FacePipeline, face_image: np.ndarray) -> None:
    grey = cv2.cvtColor(face_image, cv2.COLOR_RGB2GRAY)
    assert pipeline.analyze(grey).usable


def test_distant_face_found_by_the_full_range_model(
    pipeline: FacePipeline, pack: ModelPack, face_image: np.ndarray
) -> None:
    canvas = np.full((960, 1280, 3), 120, np.uint8)
    h, w = face_image.shape[:2]
    s = 0.3 * 960 / h
    small = cv2.resize(face_image, (int(w * s), int(h * s)), interpolation=cv2.INTER_AREA)
    canvas[100 : 100 + small.shape[0], 300 : 300 + small.shape[1]] = small
    assert LiteRtBlazeFace(pack["detector"], SHORT_RANGE).detect(canvas) == []
    assert len(LiteRtBlazeFace(pack["detector_full"], FULL_RANGE).detect(canvas)) == 1
    a = pipeline.analyze(canvas)
    assert a.usable and a.coaching is Coaching.TOO_FAR


def test_the_detector_backend_is_chosen_by_config(cfg: KioskConfig) -> None:
    tasks_cfg = cfg.model_copy(
        update={"biometrics": cfg.biometrics.model_copy(update={"detector": "mediapipe"})}
    )
    pipeline = FacePipeline.from_config(tasks_cfg)
    try:
        assert isinstance(pipeline.detector.near, MediaPipeTasksDetector)
        assert pipeline.analyze(_img("p03/img8.jpg")).usable
    finally:
        pipeline.close()
    assert isinstance(FacePipeline.from_config(cfg).detector.near, LiteRtBlazeFace)
