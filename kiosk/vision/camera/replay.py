"""Replay camera: plays image files or a video as if it were a live camera (tests, demo, debug)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from kiosk.core.clock import Clock, FakeClock
from kiosk.errors import CameraError, ImageError
from kiosk.vision.camera.base import CameraState, Frame, ThreadedCamera
from kiosk.vision.images import IMAGE_SUFFIXES, list_images, load_image

VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mkv", ".mov", ".webm", ".mjpeg"})
MAX_GAIN_EV = 2.0
"""The simulated sensor's exposure range around the recording, stops (either way)."""
LIGHT_GAIN = 1.8
"""How much the simulated face light brightens a frame (a lamp near the face)."""


def fit_frame(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Scale ``image`` to fit inside width x height (pixels), centred on black (letterbox)."""
    h, w = image.shape[:2]
    if (w, h) == (width, height):
        return image
    s = min(width / w, height / h)
    nw, nh = max(1, round(w * s)), max(1, round(h * s))
    out = np.zeros((height, width, 3), np.uint8)
    x, y = (width - nw) // 2, (height - nh) // 2
    interp = cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR
    out[y : y + nh, x : x + nw] = cv2.resize(image, (nw, nh), interpolation=interp)
    return out


def expand_source(path: Path) -> list[Path]:
    """Image files of a folder (recursively, sorted), a single image, or a video file."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise CameraError(f"replay source {path} holds no images")
        return files
    if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES | VIDEO_SUFFIXES:
        return [path]
    raise CameraError(f"replay source {path} is not a folder, image or video file")


class ReplaySource:
    """Frames from a playlist of images (decoded once, cached) or from a looping video."""

    paced = False

    def __init__(
        self, paths: list[Path], width: int = 640, height: int = 480, hold: int = 1
    ) -> None:
        self.width, self.height = width, height
        self.hold = max(1, int(hold))  # frames each image is shown for, like a person holding
        self._shown = 0
        self._lock = threading.Lock()
        self._cache: dict[Path, np.ndarray] = {}
        self._video: cv2.VideoCapture | None = None
        self._index = 0
        self.unplugged = False
        self.ev = 0.0  # exposure bias asked for, stops (simulated as a gain)
        self.light = False  # simulated face light
        self.set_playlist(paths)

    def set_exposure(self, ev: float) -> bool:
        """Simulate an exposure bias: later frames get a gain of 2**ev (within the range)."""
        self.ev = max(-MAX_GAIN_EV, min(MAX_GAIN_EV, float(ev)))
        return True

    def light_changed(self, on: bool) -> None:
        """Simulate the face light: later frames are brighter while it is on."""
        self.light = bool(on)

    def _exposed(self, image: np.ndarray) -> np.ndarray:
        gain = 2.0**self.ev * (LIGHT_GAIN if self.light else 1.0)
        if abs(gain - 1.0) < 1e-3:
            return image
        return cv2.convertScaleAbs(image, alpha=gain)

    def set_playlist(self, paths: list[Path]) -> None:
        """Play these files from now on (images in order, looping; or one video)."""
        if not paths:
            raise CameraError("replay playlist is empty")
        with self._lock:
            self.paths = [Path(p) for p in paths]
            self._index = 0
            self._shown = 0
            self._cache.clear()
            if self._video is not None:
                self._video.release()
                self._video = None

    def open(self) -> None:
        """Check that the playlist can be played; 'unplugged' simulates a missing device."""
        if self.unplugged:
            raise CameraError("replay camera unplugged")

    def read(self) -> np.ndarray | None:
        """Next frame of the playlist (loops forever)."""
        if self.unplugged:
            raise CameraError("replay camera unplugged")
        with self._lock:
            path = self.paths[self._index % len(self.paths)]
            if path.suffix.lower() in VIDEO_SUFFIXES:
                return self._exposed(self._read_video(path))
            self._shown += 1
            if self._shown >= self.hold:
                self._index += 1
                self._shown = 0
            cached = self._cache.get(path)
            if cached is None:
                try:
                    image = load_image(path, fit=(self.width, self.height))
                    cached = fit_frame(image, self.width, self.height)
                except ImageError as err:
                    raise CameraError(f"replay image unusable: {err}") from err
                self._cache[path] = cached
            return self._exposed(cached)

    def _read_video(self, path: Path) -> np.ndarray:
        if self._video is None:
            self._video = cv2.VideoCapture(str(path))
            if not self._video.isOpened():
                self._video = None
                raise CameraError(f"replay video {path.name} cannot be opened")
        ok, bgr = self._video.read()
        if not ok:  # end of video: loop
            self._video.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, bgr = self._video.read()
            if not ok:
                raise CameraError(f"replay video {path.name} has no frames")
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        return fit_frame(rgb, self.width, self.height)

    def close(self) -> None:
        """Release a video, if one is open."""
        with self._lock:
            if self._video is not None:
                self._video.release()
                self._video = None


class ReplayCamera(ThreadedCamera):
    """A camera over files; ``play`` / ``set_source`` choose what it shows.

    ``hold`` shows each image for that many frames: the kiosk's replay backend holds each
    photo for a second, as a person stands still, so the capture flow sees one face at a time
    (consecutive frames of different photos are, to the tracker, different people).
    """

    def __init__(
        self,
        source: Path | list[Path],
        *,
        width: int = 640,
        height: int = 480,
        fps: float = 15.0,
        stall_timeout_s: float = 3.0,
        clock: Clock | None = None,
        hold: int = 1,
    ) -> None:
        paths = source if isinstance(source, list) else expand_source(source)
        self.replay = ReplaySource(paths, width, height, hold)
        super().__init__(
            self.replay, fps=fps, stall_timeout_s=stall_timeout_s, clock=clock, name="replay camera"
        )

    def play(self, paths: list[Path]) -> None:
        """Show these image (or video) files from now on, looping."""
        self.replay.set_playlist([Path(p) for p in paths])

    def set_source(self, path: Path) -> None:
        """Show a folder of images, one image or a video from now on."""
        self.replay.set_playlist(expand_source(path))

    def set_exposure(self, ev: float) -> bool:
        """Simulated exposure bias (applied to the next frames, even before ``start``)."""
        return self.replay.set_exposure(ev)

    def next_frame(self) -> Frame:
        """Read and publish one frame synchronously (benchmarks, tests, demos)."""
        image = self.replay.read()
        assert image is not None
        return self.publish(image, self.clock.monotonic())


class SteppedReplayCamera(ReplayCamera):
    """The replay camera without its thread, on a fake clock (tests, benchmarks).

    Each look at :meth:`latest` moves ``clock`` on by one frame interval and reads one new
    frame, so a capture runs frame by frame and ends the same on every machine, however busy.
    """

    def __init__(self, source: Path | list[Path], *, clock: FakeClock, **kw: Any) -> None:
        super().__init__(source, clock=clock, **kw)
        self._fake = clock
        self.state = CameraState.OK

    def start(self) -> None:
        """No thread: frames come from :meth:`latest`."""

    def stop(self) -> None:
        """Nothing runs."""

    def latest(self) -> Frame | None:
        """One new frame, one frame interval later on the fake clock."""
        self._fake.advance(1 / self.fps)
        return self.next_frame()


__all__ = [
    "ReplayCamera",
    "ReplaySource",
    "SteppedReplayCamera",
    "expand_source",
    "fit_frame",
    "list_images",
]
