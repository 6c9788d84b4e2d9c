"""Exposure from the face: the controller, and each camera backend's way to apply it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from kiosk.config import REPO_ROOT
from kiosk.core.clock import FakeClock
from kiosk.errors import CameraError
from kiosk.vision.camera import ReplayCamera
from kiosk.vision.camera.opencv import OpenCvSource
from kiosk.vision.camera.picamera2 import AE_METERING_SPOT, Picamera2Source
from kiosk.vision.camera.replay import LIGHT_GAIN
from kiosk.vision.exposure import FaceExposure

PHOTO = REPO_ROOT.parent / "shared" / "faces" / "identities" / "p05" / "img59.jpg"


def test_a_dark_face_raises_exposure_in_spaced_limited_steps() -> None:
    fe = FaceExposure()
    assert fe.update(20.0, 0.0) == pytest.approx(1.0)  # 2.6 stops short: one step of 1
    assert fe.update(40.0, 0.1) is None  # the camera has not settled yet
    assert fe.update(40.0, 0.4) == pytest.approx(2.0)
    assert fe.update(40.0, 0.8) is None  # at the range's end
    assert fe.update(125.0, 1.2) is None  # within the band: left alone
    assert fe.reset() == 0.0 and fe.ev == 0.0


def test_a_bright_face_lowers_it_and_a_normal_one_is_left_alone() -> None:
    fe = FaceExposure()
    assert fe.update(150.0, 0.0) is None
    ev = fe.update(240.0, 0.0)
    assert ev is not None and -1.0 <= ev < 0
    assert fe.update(float("nan"), 5.0) is None


def test_replay_simulates_exposure_and_the_face_light(clock: FakeClock) -> None:
    cam = ReplayCamera([PHOTO], width=640, height=480, clock=clock)
    base = cam.next_frame().image.astype(np.float32).mean()
    assert cam.set_exposure(-1.0)
    darker = cam.next_frame().image.astype(np.float32).mean()
    assert darker == pytest.approx(base / 2, rel=0.05)
    cam.light_changed(True)
    lit = cam.next_frame().image.astype(np.float32).mean()
    assert lit == pytest.approx(base / 2 * LIGHT_GAIN, rel=0.08)
    cam.light_changed(False)
    cam.set_exposure(9.0)  # clamped to the simulated sensor's range
    assert cam.replay.ev == 2.0


class _FakePicam:
    def __init__(self, refuse: bool = False) -> None:
        self.controls: list[dict[str, Any]] = []
        self.refuse = refuse

    def set_controls(self, controls: dict[str, Any]) -> None:
        if self.refuse:
            raise RuntimeError("control not supported")
        self.controls.append(controls)


def test_picamera2_applies_the_bias_as_exposure_value() -> None:
    src = Picamera2Source()
    assert not src.set_exposure(1.0)  # not open
    fake = _FakePicam()
    src._cam = fake
    assert src.set_exposure(1.5) and fake.controls == [{"ExposureValue": 1.5}]
    assert src.set_exposure(20.0) and fake.controls[-1] == {"ExposureValue": 8.0}
    src._cam = _FakePicam(refuse=True)
    with pytest.raises(CameraError, match="exposure"):
        src.set_exposure(1.0)
    assert AE_METERING_SPOT == 1


def test_opencv_without_a_device_says_unsupported() -> None:
    src = OpenCvSource(index=99)
    assert not src.set_exposure(1.0)
    with pytest.raises(CameraError):
        src.open()
