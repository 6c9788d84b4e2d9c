"""One face attempt over replayed frames: coaching, light, fused liveness, challenges, matching."""

from __future__ import annotations

import dataclasses
import random
from typing import Any

import numpy as np
import pytest

from kiosk.config import REPO_ROOT, BiometricsConfig
from kiosk.core.biometrics import AttemptOutcome, ChallengeKind, Coaching, LivenessBand, MatchBand
from kiosk.core.clock import FakeClock
from kiosk.errors import ModelError
from kiosk.vision.camera import ReplayCamera
from kiosk.vision.capture import CaptureSettings, FaceCapture, Phase
from kiosk.vision.images import load_image
from kiosk.vision.pipeline import FacePipeline, FrameAnalysis
from kiosk.vision.subject import Box
from tests.fixtures.vision import live_below_bar, uncertain_about

FACES = REPO_ROOT.parent / "shared" / "faces"
# A replayed still can neither blink nor turn: where a test is not about the high bar, a
# passive "live" decides alone, as it does in the demo.
PASSIVE = CaptureSettings(passive_only=0.8)
SHORT = CaptureSettings(capture_s=5.0, challenge_s=3.0, decision_s=12.0)


def _run(capture: FaceCapture, cam: ReplayCamera, clock: FakeClock, n: int = 20) -> None:
    for _ in range(n):
        clock.advance(0.2)
        if capture.feed(cam.next_frame()).phase is Phase.DONE:
            return


def test_live_person_matches_own_reference(pipeline: FacePipeline, clock: FakeClock) -> None:
    real = FACES / "liveness/real/image_T1.jpg"
    ref = pipeline.embed_image(load_image(real))
    cam = ReplayCamera([real], width=480, height=640, clock=clock)
    cap = FaceCapture(pipeline, ref, started_at=clock.monotonic(), settings=PASSIVE)
    first = cap.feed(cam.next_frame())
    assert first.phase is Phase.COACHING and first.coaching is Coaching.OK
    _run(cap, cam, clock)
    s = cap.status
    assert s.phase is Phase.DONE and s.outcome is AttemptOutcome.MATCHED
    assert s.result is not None and s.result.match is MatchBand.HIGH and not s.stepped_up
    assert s.liveness is LivenessBand.LIVE and 0 < s.elapsed_s <= PASSIVE.decision_s


def test_liveness_is_the_median_over_the_good_frames(
    pipeline: FacePipeline, clock: FakeClock
) -> None:
    photos = [FACES / "identities/p03" / n for n in ("img8.jpg", "img48.jpg", "img50.jpg")]
    frames = [ReplayCamera([p], width=640, height=480).next_frame().image for p in photos]
    seen = [pipeline.analyze(f) for f in frames]
    assert all(a.ok for a in seen), [a.coaching for a in seen]
    scores = [pipeline.liveness_of(a) for a in seen]
    cam = ReplayCamera(photos, width=640, height=480, clock=clock)
    settings = CaptureSettings(good_frames=3, liveness_frames=3)
    cap = FaceCapture(pipeline, None, started_at=clock.monotonic(), settings=settings)
    _run(cap, cam, clock, n=3)
    assert cap.status.result is not None
    assert cap.status.result.liveness_score == pytest.approx(float(np.median(scores)), abs=1e-6)
    assert max(scores) - min(scores) > 1e-3  # three different crops, so the median is not any


def test_other_person_is_not_matched(pipeline: FacePipeline, clock: FakeClock) -> None:
    ref = pipeline.embed_image(load_image(FACES / "identities/p09/img25.jpg"))
    cam = ReplayCamera([FACES / "liveness/real/image_T1.jpg"], width=480, height=640, clock=clock)
    cap = FaceCapture(pipeline, ref, started_at=clock.monotonic(), settings=PASSIVE)
    _run(cap, cam, clock)
    assert cap.status.outcome is AttemptOutcome.NOT_MATCHED
    assert cap.best is not None


def test_clear_spoof_asks_two_challenges_and_ends_not_live(
    pipeline: FacePipeline, clock: FakeClock
) -> None:
    # The default never says 'spoof' on passive alone (a challenge instead); a kiosk that
    # configures a spoof band asks a clear spoof for two challenges.
    strict = FacePipeline(
        pipeline.pack, BiometricsConfig(liveness_spoof=0.3), limits=pipeline.limits
    )
    cam = ReplayCamera([FACES / "liveness/spoof/image_F2.jpg"], width=480, height=640, clock=clock)
    cap = FaceCapture(strict, None, started_at=clock.monotonic(), settings=SHORT)
    _run(cap, cam, clock, n=100)
    s = cap.status
    assert s.outcome is AttemptOutcome.NOT_LIVE and s.liveness is LivenessBand.SPOOF
    assert len(s.challenges) == 2 and s.spoof is not None and s.spoof.startswith("spoof:")
    assert s.elapsed_s <= SHORT.decision_s


def test_a_live_score_under_the_high_bar_never_verifies_on_passive_alone(
    pipeline: FacePipeline, clock: FakeClock
) -> None:
    """A close-up photo scored "live" must still blink or turn: a still never does."""
    photo = FACES / "liveness/spoof/image_F2.jpg"
    frame = ReplayCamera([photo], width=480, height=640).next_frame().image
    fooled = live_below_bar(pipeline, frame)
    cam = ReplayCamera([photo], width=480, height=640, clock=clock)
    cap = FaceCapture(fooled, None, started_at=clock.monotonic(), settings=SHORT)
    for _ in range(5):
        clock.advance(0.2)
        status = cap.feed(cam.next_frame())
    assert status.phase is Phase.CHALLENGE and len(status.challenges) == 1
    _run(cap, cam, clock, n=100)
    s = cap.status
    assert s.outcome is AttemptOutcome.NOT_LIVE and s.liveness is LivenessBand.UNCERTAIN
    assert s.result is not None and s.result.liveness is LivenessBand.LIVE  # passive was fooled


def test_challenges_are_randomised(pipeline: FacePipeline, clock: FakeClock) -> None:
    photo = FACES / "liveness/spoof/image_F2.jpg"
    frame = ReplayCamera([photo], width=480, height=640).next_frame().image
    unsure = uncertain_about(pipeline, frame)
    asked = set()
    for seed in range(8):
        cam = ReplayCamera([photo], width=480, height=640, clock=clock)
        cap = FaceCapture(
            unsure, None, started_at=clock.monotonic(), settings=SHORT, rng=random.Random(seed)
        )
        _run(cap, cam, clock, n=5)
        asked.update(cap.status.challenges)
    assert asked == set(ChallengeKind)


def _uncertain_photo(pipeline: FacePipeline, clock: FakeClock) -> tuple[FacePipeline, ReplayCamera]:
    """A printed photo, and the pipeline with thresholds that make its liveness uncertain."""
    cam = ReplayCamera([FACES / "liveness/spoof/image_F2.jpg"], width=480, height=640, clock=clock)
    frame = ReplayCamera([FACES / "liveness/spoof/image_F2.jpg"], width=480, height=640)
    return uncertain_about(pipeline, frame.next_frame().image), cam


def _challenged(pipeline: Any, clock: FakeClock, kind: ChallengeKind, **kw: Any) -> FaceCapture:
    """A capture from now on ``pipeline`` (real or scripted) whose step-up asks ``kind``."""
    return FaceCapture(pipeline, None, started_at=clock.monotonic(), challenges=(kind,), **kw)


def test_uncertain_score_asks_a_challenge_then_times_out(
    pipeline: FacePipeline, clock: FakeClock
) -> None:
    pipeline, cam = _uncertain_photo(pipeline, clock)
    settings = dataclasses.replace(SHORT, challenge_s=2.0)
    cap = _challenged(pipeline, clock, ChallengeKind.BLINK, settings=settings)
    for _ in range(5):
        clock.advance(0.2)
        status = cap.feed(cam.next_frame())
    assert status.phase is Phase.CHALLENGE and status.coaching is Coaching.BLINK
    _run(cap, cam, clock)  # a printed photo never blinks
    assert cap.status.outcome is AttemptOutcome.NOT_LIVE
    assert cap.status.spoof == "uncertain:blink"


class _Scripted:
    """Wraps the pipeline: eye ratio and yaw follow a script, as a live person's would."""

    def __init__(
        self,
        pipeline: FacePipeline,
        eyes: list[float] | None = None,
        yaws: list[float] | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.eyes = eyes or []
        self.yaws = yaws or []

    def analyze(
        self, image: np.ndarray, timestamp: float | None = None, track: Box | None = None
    ) -> FrameAnalysis:
        a = self.pipeline.analyze(image, timestamp, track)
        assert a.metrics is not None
        ear = self.eyes.pop(0) if self.eyes else a.metrics.eye_ratio
        yaw = self.yaws.pop(0) if self.yaws else a.metrics.yaw
        return dataclasses.replace(
            a, metrics=dataclasses.replace(a.metrics, eye_ratio=ear, yaw=yaw)
        )

    def __getattr__(self, name: str) -> object:
        return getattr(self.pipeline, name)


def test_challenge_passed_by_a_blink(pipeline: FacePipeline, clock: FakeClock) -> None:
    pipeline, cam = _uncertain_photo(pipeline, clock)
    wrapped = _Scripted(pipeline, eyes=[0.3] * 6 + [0.1, 0.3])
    cap = _challenged(wrapped, clock, ChallengeKind.BLINK)
    _run(cap, cam, clock)
    assert cap.status.outcome is AttemptOutcome.MATCHED and cap.status.stepped_up
    assert cap.status.liveness is LivenessBand.LIVE


def test_challenge_passed_by_a_head_turn_read_off_the_mesh(
    pipeline: FacePipeline, clock: FakeClock
) -> None:
    pipeline, cam = _uncertain_photo(pipeline, clock)
    wrapped = _Scripted(pipeline, yaws=[0.0] * 6 + [-5.0, -22.0])
    cap = _challenged(wrapped, clock, ChallengeKind.TURN_RIGHT)
    _run(cap, cam, clock)
    assert cap.status.outcome is AttemptOutcome.MATCHED and cap.status.stepped_up


def test_a_turn_to_the_wrong_side_does_not_pass(pipeline: FacePipeline, clock: FakeClock) -> None:
    pipeline, cam = _uncertain_photo(pipeline, clock)
    wrapped = _Scripted(pipeline, yaws=[0.0] * 6 + [25.0] * 40)
    settings = dataclasses.replace(SHORT, challenge_s=2.0)
    cap = _challenged(wrapped, clock, ChallengeKind.TURN_RIGHT, settings=settings)
    _run(cap, cam, clock, n=40)
    assert cap.status.outcome is AttemptOutcome.NOT_LIVE


def _dark(path: str, gain: float = 0.2) -> np.ndarray:
    img = ReplayCamera([FACES / path], width=640, height=480).next_frame().image
    return np.clip(img.astype(np.float32) * gain, 0, 255).astype(np.uint8)


def test_persistent_darkness_changes_strategy_then_decides_in_bounded_time(
    pipeline: FacePipeline, clock: FakeClock, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    import cv2

    dark = tmp_path / "dark.png"
    cv2.imwrite(str(dark), cv2.cvtColor(_dark("identities/p03/img8.jpg"), cv2.COLOR_RGB2BGR))
    cam = ReplayCamera([dark], width=640, height=480, clock=clock)
    settings = CaptureSettings(capture_s=6.0, strategy_after_s=2.0, challenge_s=3.0)
    cap = FaceCapture(pipeline, None, started_at=clock.monotonic(), settings=settings)
    clock.advance(0.2)
    first = cap.feed(cam.next_frame())
    assert first.coaching is Coaching.TOO_DARK and first.light  # the face light, at once
    seen = []
    while cap.phase is Phase.COACHING:
        clock.advance(0.25)
        seen.append(cap.feed(cam.next_frame()))
    late = [s.coaching for s in seen if s.elapsed_s > 2.5 and s.phase is Phase.COACHING]
    assert late and set(late) == {Coaching.TOO_FAR}  # light on did not help: come closer
    # The coaching phase is bounded: a usable (if dark) face goes to a challenge, not a wait.
    assert seen[-1].phase is Phase.CHALLENGE and seen[-1].elapsed_s <= 6.5
    _run(cap, cam, clock, n=40)
    assert cap.status.phase is Phase.DONE and cap.status.elapsed_s <= settings.decision_s


def test_nobody_in_front_ends_without_capture(
    pipeline: FacePipeline, clock: FakeClock, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    from PIL import Image

    wall = tmp_path / "wall.png"
    Image.new("RGB", (640, 480), (100, 110, 120)).save(wall)
    cam = ReplayCamera([wall], width=480, height=640, clock=clock)
    settings = CaptureSettings(capture_s=3.0)
    cap = FaceCapture(pipeline, None, started_at=clock.monotonic(), settings=settings)
    _run(cap, cam, clock)
    assert cap.status.outcome is AttemptOutcome.NO_CAPTURE and cap.best is None


def test_two_people_to_the_end_are_never_guessed_between(
    pipeline: FacePipeline, clock: FakeClock, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    import cv2

    left = cv2.resize(load_image(FACES / "identities/p03/img8.jpg"), (320, 480))
    right = cv2.resize(load_image(FACES / "identities/p09/img25.jpg"), (320, 480))
    both = tmp_path / "two.png"
    cv2.imwrite(str(both), cv2.cvtColor(np.hstack([left, right]), cv2.COLOR_RGB2BGR))
    cam = ReplayCamera([both], width=640, height=480, clock=clock)
    cap = FaceCapture(pipeline, None, started_at=clock.monotonic(), settings=SHORT)
    _run(cap, cam, clock, n=40)
    s = cap.status
    assert s.outcome is AttemptOutcome.NO_CAPTURE and s.coaching is Coaching.MULTIPLE_FACES


class _Broken:
    """A pipeline whose model starts returning NaN mid-attempt."""

    def __init__(self, pipeline: FacePipeline) -> None:
        self.pipeline = pipeline
        self.calls = 0

    def analyze(
        self, image: np.ndarray, timestamp: float | None = None, track: Box | None = None
    ) -> FrameAnalysis:
        self.calls += 1
        if self.calls > 1:
            raise ModelError("face_landmark.tflite: produced NaN or infinite values")
        return self.pipeline.analyze(image, timestamp, track)

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
