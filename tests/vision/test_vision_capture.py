"""One face attempt over replayed frames: coaching, passive liveness, step-up, matching."""

from __future__ import annotations

import dataclasses
import statistics

import numpy as np
import pytest

from kiosk.config import REPO_ROOT, BiometricsConfig
from kiosk.core.biometrics import AttemptOutcome, ChallengeKind, Coaching, MatchBand
from kiosk.core.clock import FakeClock
from kiosk.errors import ModelError
from kiosk.vision.camera import ReplayCamera
from kiosk.vision.capture import FaceCapture, Phase
from kiosk.vision.images import load_image
from kiosk.vision.pipeline import FacePipeline, FrameAnalysis
from tests.fixtures.vision import uncertain_about

FACES = REPO_ROOT.parent / "shared" / "faces"


def _run(capture: FaceCapture, cam: ReplayCamera, clock: FakeClock, n: int = 20) -> None:
    for _ in range(n):
        clock.advance(0.2)
        if capture.feed(cam.next_frame()).phase is Phase.DONE:
            return


def test_live_person_matches_own_reference(pipeline: FacePipeline, clock: FakeClock) -> None:
    real = FACES / "liveness/real/image_T1.jpg"
    ref = pipeline.embed_image(load_image(real))
    cam = ReplayCamera([real], width=480, height=640, clock=clock)
    cap = FaceCapture(pipeline, ref, started_at=clock.monotonic())
    first = cap.feed(cam.next_frame())
    assert first.phase is Phase.COACHING and first.coaching is Coaching.OK
    _run(cap, cam, clock)
    s = cap.status
    assert s.phase is Phase.DONE and s.outcome is AttemptOutcome.MATCHED
    assert s.result is not None and s.result.match is MatchBand.HIGH and not s.stepped_up


def test_liveness_is_fused_over_the_run_of_good_frames(
    pipeline: FacePipeline, clock: FakeClock
) -> None:
    photos = [FACES / "identities/p03" / n for n in ("img8.jpg", "img48.jpg", "img50.jpg")]
    frames = [ReplayCamera([p], width=640, height=480).next_frame().image for p in photos]
    seen = [pipeline.analyze(f) for f in frames]
    assert all(a.ok for a in seen), [a.coaching for a in seen]
    scores = [pipeline.liveness_of(a) for a in seen]
    cam = ReplayCamera(photos, width=640, height=480, clock=clock)
    # Every score counts as live here, so the attempt ends with the fused score to check.
    lenient = FacePipeline(
        pipeline.pack, BiometricsConfig(liveness_live=0.0), limits=pipeline.limits
    )
    cap = FaceCapture(lenient, None, started_at=clock.monotonic(), good_frames=3)
    _run(cap, cam, clock, n=3)
    assert cap.status.result is not None
    # The median of the run: one odd crop moves it less than a mean.
    assert cap.status.result.liveness_score == pytest.approx(statistics.median(scores), abs=1e-6)
    assert max(scores) - min(scores) > 1e-3  # three different crops


def test_other_person_is_not_matched(pipeline: FacePipeline, clock: FakeClock) -> None:
    ref = pipeline.embed_image(load_image(FACES / "identities/p09/img25.jpg"))
    cam = ReplayCamera([FACES / "liveness/real/image_T1.jpg"], width=480, height=640, clock=clock)
    cap = FaceCapture(pipeline, ref, started_at=clock.monotonic())
    _run(cap, cam, clock)
    assert cap.status.outcome is AttemptOutcome.NOT_MATCHED
    assert cap.best is not None


def test_clear_spoof_ends_not_live(pipeline: FacePipeline, clock: FakeClock) -> None:
    # The default never says 'spoof' on passive alone (a challenge instead); a kiosk that
    # configures a spoof band ends a clear, well-lit spoof at once.
    strict = FacePipeline(
        pipeline.pack, BiometricsConfig(liveness_spoof=0.3), limits=pipeline.limits
    )
    cam = ReplayCamera([FACES / "liveness/spoof/image_F2.jpg"], width=480, height=640, clock=clock)
    cap = FaceCapture(strict, None, started_at=clock.monotonic(), timeout_s=5)
    _run(cap, cam, clock, n=40)
    assert cap.status.outcome is AttemptOutcome.NOT_LIVE


def _uncertain_photo(pipeline: FacePipeline, clock: FakeClock) -> tuple[FacePipeline, ReplayCamera]:
    """A printed photo, and the pipeline with thresholds that make its liveness uncertain."""
    cam = ReplayCamera([FACES / "liveness/spoof/image_F2.jpg"], width=480, height=640, clock=clock)
    frame = ReplayCamera([FACES / "liveness/spoof/image_F2.jpg"], width=480, height=640)
    return uncertain_about(pipeline, frame.next_frame().image), cam


def test_uncertain_score_asks_a_challenge_then_times_out(
    pipeline: FacePipeline, clock: FakeClock
) -> None:
    pipeline, cam = _uncertain_photo(pipeline, clock)
    cap = FaceCapture(pipeline, None, started_at=clock.monotonic(), challenge_timeout_s=2.0)
    for _ in range(3):
        clock.advance(0.2)
        status = cap.feed(cam.next_frame())
    assert status.phase is Phase.CHALLENGE and status.coaching is Coaching.BLINK
    _run(cap, cam, clock)  # a printed photo never blinks
    assert cap.status.outcome is AttemptOutcome.NOT_LIVE


class _Blinker:
    """Wraps the pipeline: the eye ratio follows a script, as a blinking person's would."""

    def __init__(self, pipeline: FacePipeline, eyes: list[float]) -> None:
        self.pipeline = pipeline
        self.eyes = eyes

    def analyze(self, image: np.ndarray, timestamp: float | None = None) -> FrameAnalysis:
        a = self.pipeline.analyze(image, timestamp)
        assert a.metrics is not None
        ear = self.eyes.pop(0) if self.eyes else a.metrics.eye_ratio
        return dataclasses.replace(a, metrics=dataclasses.replace(a.metrics, eye_ratio=ear))

    def __getattr__(self, name: str) -> object:
        return getattr(self.pipeline, name)


def test_challenge_passed_by_a_blink(pipeline: FacePipeline, clock: FakeClock) -> None:
    pipeline, cam = _uncertain_photo(pipeline, clock)
    wrapped = _Blinker(pipeline, [0.3, 0.3, 0.3, 0.3, 0.1, 0.3])
    cap = FaceCapture(wrapped, None, started_at=clock.monotonic(), challenge=ChallengeKind.BLINK)  # type: ignore[arg-type]
    _run(cap, cam, clock)
    assert cap.status.outcome is AttemptOutcome.MATCHED and cap.status.stepped_up


def test_nobody_in_front_ends_without_capture(
    pipeline: FacePipeline, clock: FakeClock, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    from PIL import Image

    wall = tmp_path / "wall.png"
    Image.new("RGB", (640, 480), (100, 110, 120)).save(wall)
    cam = ReplayCamera([wall], width=480, height=640, clock=clock)
    cap = FaceCapture(pipeline, None, started_at=clock.monotonic(), timeout_s=2.0)
    _run(cap, cam, clock)
    assert cap.status.outcome is AttemptOutcome.NO_CAPTURE and cap.best is None


class _Broken:
    """A pipeline whose model starts returning NaN mid-attempt."""

    def __init__(self, pipeline: FacePipeline) -> None:
        self.pipeline = pipeline
        self.calls = 0

    def analyze(self, image: np.ndarray, timestamp: float | None = None) -> FrameAnalysis:
        self.calls += 1
        if self.calls > 1:
            raise ModelError("face_landmark.tflite: produced NaN or infinite values")
        return self.pipeline.analyze(image, timestamp)

    def __getattr__(self, name: str) -> object:
        return getattr(self.pipeline, name)


def test_model_failure_mid_attempt_ends_it_cleanly(
    pipeline: FacePipeline, clock: FakeClock
) -> None:
    cam = ReplayCamera([FACES / "liveness/real/image_T1.jpg"], width=480, height=640, clock=clock)
    cap = FaceCapture(_Broken(pipeline), None, started_at=clock.monotonic())  # type: ignore[arg-type]
    assert cap.feed(cam.next_frame()).phase is Phase.COACHING
    s = cap.feed(cam.next_frame())
    assert s.phase is Phase.DONE and s.outcome is AttemptOutcome.NO_CAPTURE
    assert s.error is not None and "face_landmark.tflite" in s.error
    assert cap.feed(cam.next_frame()) is s


def test_unusable_frame_is_skipped(pipeline: FacePipeline, clock: FakeClock) -> None:
    from kiosk.vision.camera.base import Frame

    cap = FaceCapture(pipeline, None, started_at=clock.monotonic())
    s = cap.feed(Frame(np.zeros((8, 8, 3), np.uint8), clock.monotonic(), 0))
    assert s.phase is Phase.COACHING and s.error is None
