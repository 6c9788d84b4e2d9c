"""Camera backends: registry, replay playlists and video, drop counting, dead-camera recovery."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from kiosk.config import REPO_ROOT, CameraConfig
from kiosk.core.clock import FakeClock
from kiosk.errors import CameraError
from kiosk.vision.camera import (
    DEMO_FACES,
    CameraState,
    ReplayCamera,
    ThreadedCamera,
    auto_backend,
    open_camera,
)
from kiosk.vision.camera.opencv import OpenCvSource
from kiosk.vision.camera.picamera2 import Picamera2Source
from kiosk.vision.camera.replay import SteppedReplayCamera, expand_source, fit_frame


def test_importing_the_vision_package_does_not_import_picamera2() -> None:
    code = (
        "import sys, kiosk.vision, kiosk.vision.camera, kiosk.vision.pipeline, "
        "kiosk.vision.camera.picamera2, kiosk.vision.commands\n"
        "assert 'picamera2' not in sys.modules, 'picamera2 imported'\n"
        "assert 'mediapipe' not in sys.modules, 'mediapipe imported eagerly'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO_ROOT)


def test_auto_picks_replay_without_camera_hardware() -> None:
    cfg = CameraConfig(device_index=63)
    if Path("/dev/video63").exists():  # pragma: no cover - unlikely
        pytest.skip("a real /dev/video63 exists")
    assert auto_backend(cfg) in ("replay", "picamera2")


def test_default_replay_uses_demo_faces(clock: FakeClock) -> None:
    cam = open_camera(CameraConfig(backend="replay"), clock=clock)
    assert isinstance(cam, ReplayCamera)
    assert cam.replay.paths[0].is_relative_to(DEMO_FACES)
    assert cam.latest() is None and cam.state is CameraState.STOPPED


def test_replay_frames_are_rgb_at_configured_size_with_timestamps(clock: FakeClock) -> None:
    cam = open_camera(CameraConfig(backend="replay", width=320, height=240), clock=clock)
    assert isinstance(cam, ReplayCamera)
    assert cam.poll_once()
    clock.advance(0.1)
    assert cam.poll_once()
    f = cam.latest()
    assert f is not None and f.image.shape == (240, 320, 3) and f.image.dtype == np.uint8
    assert f.seq == 1 and f.timestamp == clock.monotonic()
    assert cam.frames == 2 and cam.dropped == 1 and cam.state is CameraState.OK


def test_untaken_frames_are_dropped_not_queued(clock: FakeClock) -> None:
    cam = ReplayCamera(DEMO_FACES, clock=clock)
    for _ in range(5):
        cam.poll_once()
    assert cam.frames == 5 and cam.dropped == 4
    assert cam.latest() is not None
    cam.poll_once()
    assert cam.dropped == 4  # the previous frame was taken


def test_play_switches_to_the_given_photo(clock: FakeClock) -> None:
    cam = ReplayCamera(DEMO_FACES, clock=clock)
    target = DEMO_FACES / "p09" / "img25.jpg"
    cam.play([target])
    a, b = cam.next_frame(), cam.next_frame()
    assert np.array_equal(a.image, b.image)
    cam.set_source(DEMO_FACES / "p07")
    assert [p.name for p in cam.replay.paths] == ["img20.jpg", "img21.jpg"]


def test_unplugged_camera_is_reported_and_recovers(clock: FakeClock) -> None:
    cam = ReplayCamera(DEMO_FACES, clock=clock)
    assert cam.poll_once() and cam.state is CameraState.OK
    cam.replay.unplugged = True
    assert not cam.poll_once()
    assert cam.state is CameraState.ABSENT
    clock.advance(0.5)
    assert not cam.poll_once()  # retries wait retry_s
    cam.replay.unplugged = False
    assert not cam.poll_once() and cam.state is CameraState.ABSENT
    clock.advance(1.0)
    assert cam.poll_once() and cam.state is CameraState.OK


class _SilentSource:
    paced = False

    def __init__(self) -> None:
        self.opens = 0
        self.closes = 0

    def open(self) -> None:
        self.opens += 1

    def read(self) -> np.ndarray | None:
        return None

    def close(self) -> None:
        self.closes += 1


def test_stalled_camera_is_reported_then_reopened(clock: FakeClock) -> None:
    src = _SilentSource()
    cam = ThreadedCamera(src, stall_timeout_s=3.0, clock=clock)
    cam.poll_once()
    assert src.opens == 1 and cam.state is CameraState.STARTING
    clock.advance(3.5)
    cam.poll_once()
    assert cam.state is CameraState.STALLED
    clock.advance(3.0)
    cam.poll_once()
    assert src.closes == 1
    clock.advance(1.5)
    cam.poll_once()
    assert src.opens == 2


def test_threaded_capture_runs_and_stops() -> None:
    cam = ReplayCamera(DEMO_FACES / "p07", fps=60)
    cam.start()
    try:
        deadline = time.monotonic() + 10
        while cam.frames < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert cam.frames >= 3 and cam.latest() is not None
    finally:
        cam.stop()
    assert cam.state is CameraState.STOPPED


def test_replay_video_loops(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (160, 120))
    for i in range(3):
        writer.write(np.full((120, 160, 3), 40 * (i + 1), np.uint8))
    writer.release()
    cam = ReplayCamera(path, width=160, height=120, clock=clock)
    levels = [int(cam.next_frame().image.mean()) for _ in range(5)]
    assert levels[0] < levels[1] < levels[2] and abs(levels[3] - levels[0]) < 5


def test_bad_replay_sources(tmp_path: Path) -> None:
    with pytest.raises(CameraError, match="no images"):
        expand_source(tmp_path)
    with pytest.raises(CameraError, match="not a folder"):
        expand_source(tmp_path / "missing.txt")
    with pytest.raises(CameraError, match="empty"):
        ReplayCamera([])
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"")
    cam = ReplayCamera([broken])
    assert not cam.poll_once() and cam.state is CameraState.ABSENT


def test_replay_config_without_any_source_is_a_camera_error(tmp_path: Path) -> None:
    cfg = CameraConfig(backend="replay", replay_source=tmp_path / "none")
    with pytest.raises(CameraError):
        open_camera(cfg)


def test_fit_frame_letterboxes() -> None:
    out = fit_frame(np.full((100, 50, 3), 200, np.uint8), 640, 480)
    assert out.shape == (480, 640, 3)
    assert out[:, 0].max() == 0 and out[240, 320].min() == 200


def test_missing_webcam_is_absent_not_a_crash(clock: FakeClock) -> None:
    cam = ThreadedCamera(OpenCvSource(index=63), clock=clock)
    assert not cam.poll_once()
    assert cam.state is CameraState.ABSENT


def test_picamera2_off_pi_is_absent_not_a_crash(clock: FakeClock) -> None:
    pytest.importorskip("numpy")
    if "picamera2" in sys.modules:  # pragma: no cover
        pytest.skip("picamera2 present")
    cam = ThreadedCamera(Picamera2Source(), clock=clock)
    assert not cam.poll_once()
    assert cam.state is CameraState.ABSENT
    with pytest.raises(CameraError, match="picamera2"):
        Picamera2Source().open()


def test_replay_can_hold_each_photo_like_a_person_standing_still() -> None:
    faces = REPO_ROOT.parent / "shared" / "faces" / "identities" / "p03"
    photos = sorted(faces.glob("*.jpg"))[:2]
    cam = ReplayCamera(photos, width=320, height=240, hold=3)
    shown = [cam.next_frame().image for _ in range(6)]
    same = [np.array_equal(shown[0], s) for s in shown]
    assert same == [True, True, True, False, False, False]


def test_stepped_replay_gives_one_new_frame_per_look_on_the_fake_clock() -> None:
    clock = FakeClock(100.0)
    cam = SteppedReplayCamera(DEMO_FACES, clock=clock, fps=10.0)
    cam.start()  # no thread
    assert cam.state is CameraState.OK
    first, second = cam.latest(), cam.latest()
    assert first is not None and second is not None
    assert second.seq == first.seq + 1
    assert clock.monotonic() - first.timestamp == pytest.approx(0.1)
    cam.stop()
