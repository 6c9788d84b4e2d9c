"""The field-condition table: seeded, and each condition does what its row claims."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from kiosk.vision.degrade import (
    CONDITION_NAMES,
    CONDITIONS,
    camera_frame,
    condition,
    face_mask,
)
from kiosk.vision.photometric import noise_sigma
from kiosk.vision.pipeline import FacePipeline


@pytest.fixture(scope="module")
def frame(face_image: np.ndarray) -> np.ndarray:
    """The clean camera-sized frame of one real photo."""
    return camera_frame(face_image)


@pytest.fixture(scope="module")
def box(pipeline: FacePipeline, frame: np.ndarray) -> tuple[float, float, float, float]:
    a = pipeline.analyze(frame)
    assert a.box is not None
    return a.box


def luma(img: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float64)


def face_luma(img: np.ndarray, box: tuple[float, float, float, float]) -> float:
    x, y, w, h = (round(v) for v in box)
    return float(luma(img)[y + h // 4 : y + 3 * h // 4, x + w // 4 : x + 3 * w // 4].mean())


def test_the_table_declares_every_required_condition_once() -> None:
    required = {"clean", "dark", "dim_office", "noise", "backlight", "overexposed", "jpeg20"}
    required |= {"small_face", "roll15"}
    assert required <= set(CONDITION_NAMES)
    assert len(set(CONDITION_NAMES)) == len(CONDITIONS)
    with pytest.raises(ValueError, match="dim_office"):
        condition("foggy")


@pytest.mark.parametrize("name", CONDITION_NAMES)
def test_each_condition_is_deterministic_per_seed(name: str, frame: np.ndarray, box) -> None:
    c = condition(name)
    a = c.apply(frame, box, seed=7, index=0)
    assert a.dtype == np.uint8 and a.shape == frame.shape
    assert np.array_equal(a, c.apply(frame, box, seed=7, index=0))
    # Another frame of the burst (or another seed) is a different camera frame.
    assert not np.array_equal(a, c.apply(frame, box, seed=7, index=1))
    assert not np.array_equal(a, c.apply(frame, box, seed=8, index=0))


def test_dark_keeps_30_percent_of_the_light(frame: np.ndarray, box) -> None:
    dark = condition("dark").apply(frame, box, 1)
    assert luma(dark).mean() == pytest.approx(0.30 * luma(frame).mean(), rel=0.05)


def test_dim_office_is_dark_noisy_and_compressed(frame: np.ndarray, box) -> None:
    dark = condition("dark").apply(frame, box, 1)
    dim = condition("dim_office").apply(frame, box, 1)
    assert luma(dim).mean() == pytest.approx(luma(dark).mean(), rel=0.1)
    # JPEG smooths the finest grain away; the noise survives as blotches of a few pixels.
    assert float(np.std(luma(dim) - luma(dark))) > 2.0


def test_noise_adds_about_sigma_20(frame: np.ndarray, box) -> None:
    noisy = condition("noise").apply(frame, box, 1)
    clean = condition("clean").apply(frame, box, 1)
    # The estimator reads the luma: per-channel sigma 20 averages to about 20 / sqrt(3)..20.
    assert 10.0 < noise_sigma(luma(noisy)) - noise_sigma(luma(clean)) < 22.0


def test_backlight_brightens_the_background_and_shades_the_face(frame: np.ndarray, box) -> None:
    back = condition("backlight").apply(frame, box, 1)
    outside = face_mask(frame.shape, box)[:, :, 0] < 0.01
    assert luma(back)[outside].mean() > luma(frame)[outside].mean() + 40
    assert face_luma(back, box) < 0.7 * face_luma(frame, box)


def test_overexposed_brightens_the_face_most(frame: np.ndarray, box) -> None:
    over = condition("overexposed").apply(frame, box, 1)
    outside = face_mask(frame.shape, box)[:, :, 0] < 0.01
    face_gain = face_luma(over, box) - face_luma(frame, box)
    background_gain = luma(over)[outside].mean() - luma(frame)[outside].mean()
    assert face_gain > 40 and face_gain > background_gain


def test_jpeg20_loses_detail_but_keeps_brightness(frame: np.ndarray, box) -> None:
    j = condition("jpeg20").apply(frame, box, 1)
    assert luma(j).mean() == pytest.approx(luma(frame).mean(), rel=0.03)
    assert cv2.PSNR(j, frame) < 40


def test_small_face_shrinks_the_face_box_to_about_80_px(
    pipeline: FacePipeline, frame: np.ndarray, box
) -> None:
    small = condition("small_face").apply(frame, box, 1)
    a = pipeline.analyze(small)
    assert a.box is not None
    assert 65 <= max(a.box[2], a.box[3]) <= 100, a.box


def test_roll15_turns_the_eye_line_by_15_degrees(
    pipeline: FacePipeline, frame: np.ndarray, box
) -> None:
    def eye_angle(img: np.ndarray) -> float:
        a = pipeline.analyze(img)
        assert a.mesh is not None
        right, left = a.mesh.five_points()[:2]
        return math.degrees(math.atan2(left[1] - right[1], left[0] - right[0]))

    turned = condition("roll15").apply(frame, box, 1)
    # OpenCV's positive angle turns counter-clockwise on screen: the eye line's angle falls.
    assert eye_angle(frame) - eye_angle(turned) == pytest.approx(15.0, abs=3.0)


def test_camera_frame_never_enlarges() -> None:
    big = np.zeros((1200, 900, 3), np.uint8)
    small = np.zeros((300, 200, 3), np.uint8)
    assert camera_frame(big).shape == (640, 480, 3)
    assert camera_frame(small) is small
