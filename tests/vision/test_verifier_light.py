"""The face light (a relay on gpiozero's MockFactory) and face-metered exposure in a real attempt.

The replay camera simulates both: an exposure bias is a gain on the replayed frames, the face
light brightens them. So the loop "dark face -> light on, exposure up -> a usable face" runs
here on real photos and real models, with time injected.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from face_doubles import SteppedReplay
from gpiozero.pins.mock import MockFactory

from firmware import Device, build_device
from kiosk.config import GpioConfig
from kiosk.core.biometrics import Coaching
from kiosk.core.clock import FakeClock
from kiosk.core.policy import DecisionPolicy
from kiosk.errors import HardwareError
from kiosk.references.store import Reference
from kiosk.vision.capture import CaptureSettings
from kiosk.vision.pipeline import FacePipeline
from kiosk.vision.verifier import CameraFaceVerifier, FaceTimeouts

LIGHT_PIN = 25
NIK = "3510011203850001"
Camera = Callable[[float], SteppedReplay]
"""A replay camera on the test face at a given gain of its brightness (fixture ``camera_at``)."""
Pins = tuple[Device, MockFactory]
SETTINGS = CaptureSettings(capture_s=8.0, challenge_s=3.0, decision_s=16.0, passive_only=0.8)


class NoReferences:
    """No reference anywhere: the capture is kept for the portal."""

    def lookup(self, nik: str) -> Reference | None:
        """Nothing."""
        return None


@pytest.fixture
def device(clock: FakeClock) -> Iterator[Pins]:
    factory = MockFactory()
    d = build_device(
        GpioConfig(),
        on_help=lambda: None,
        on_presence=lambda present: None,
        clock=clock,
        pin_factory=factory,
        background=False,
    )
    yield d, factory
    d.close()


def _dark_file(tmp_path: Path, photo: Callable[[str], np.ndarray], gain: float) -> Path:
    img = np.clip(photo("p05/img59.jpg").astype(np.float32) * gain, 0, 255).astype(np.uint8)
    path = tmp_path / "dim-office.png"
    cv2.imwrite(str(path), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    return path


@pytest.fixture
def camera_at(clock: FakeClock, tmp_path: Path, photo: Callable[[str], np.ndarray]) -> Camera:
    """A replay camera on the test face at ``gain`` times its brightness (below 1: dim)."""

    def camera(gain: float) -> SteppedReplay:
        return SteppedReplay(clock, [_dark_file(tmp_path, photo, gain)])

    return camera


def _verifier(
    camera: SteppedReplay, pipeline: FacePipeline, clock: FakeClock, light: Callable[[bool], None]
) -> CameraFaceVerifier:
    return CameraFaceVerifier(
        camera,
        pipeline,
        NoReferences(),
        DecisionPolicy(),
        clock=clock,
        timeouts=FaceTimeouts(SETTINGS),
        sleep=clock.advance,
        light=light,
    )


def test_a_dark_face_turns_the_light_on_raises_exposure_and_is_captured(
    face_pipeline: FacePipeline, clock: FakeClock, camera_at: Camera, device: Pins
) -> None:
    dev, factory = device
    camera = camera_at(0.12)
    first = face_pipeline.analyze(camera.cam.next_frame().image)
    assert first.coaching in (Coaching.TOO_DARK, Coaching.NO_FACE)  # as the camera sees it
    seen: list[bool] = []

    def light(on: bool) -> None:
        dev.set_face_light(on)
        seen.append(factory.pin(LIGHT_PIN).state)

    result = _verifier(camera, face_pipeline, clock, light).check(NIK)
    assert seen == [True, False]  # on while dark, off when the attempt ended
    assert factory.pin(LIGHT_PIN).state is False and camera.lights == [True, False]
    assert camera.cam.replay.ev > 0  # exposure was raised from the face's luma
    assert result.template is not None and result.coaching is None  # a usable capture
    assert result.decision_s is not None and 0 < result.decision_s <= SETTINGS.decision_s


def test_a_well_lit_face_needs_no_light(
    face_pipeline: FacePipeline, clock: FakeClock, camera_at: Camera, device: Pins
) -> None:
    _dev, factory = device
    camera = camera_at(1.0)
    switched: list[bool] = []
    result = _verifier(camera, face_pipeline, clock, switched.append).check(NIK)
    assert switched == [] and factory.pin(LIGHT_PIN).state is False
    assert result.template is not None


def test_a_dead_relay_does_not_end_the_attempt(
    face_pipeline: FacePipeline, clock: FakeClock, camera_at: Camera
) -> None:
    def broken(on: bool) -> None:
        raise HardwareError("relay driver gone")

    camera = camera_at(0.12)
    result = _verifier(camera, face_pipeline, clock, broken).check(NIK)
    assert result.template is not None  # the exposure alone brought the face up
    assert camera.lights == [True, False]


def test_a_persistent_problem_ends_in_bounded_time_with_its_coaching(
    face_pipeline: FacePipeline, clock: FakeClock, tmp_path: Path
) -> None:
    wall = tmp_path / "wall.png"
    cv2.imwrite(str(wall), np.full((480, 640, 3), 8, np.uint8))  # a dark room, nobody seen
    camera = SteppedReplay(clock, [wall])
    switched: list[bool] = []
    start = clock.monotonic()
    result = _verifier(camera, face_pipeline, clock, switched.append).check(NIK)
    assert result.template is None and result.coaching == "no_face"
    assert switched == [True, False]  # the light was tried, then switched off
    assert clock.monotonic() - start <= SETTINGS.capture_s + 1.0
