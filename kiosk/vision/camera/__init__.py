"""Camera backends behind one interface, chosen by configuration (see :func:`open_camera`).

The backends are rows of ``kiosk.backends.CAMERAS``; their factories are here.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from kiosk.backends import AUTO, CAMERAS
from kiosk.config import REPO_ROOT, CameraConfig
from kiosk.core.clock import Clock
from kiosk.errors import CameraError
from kiosk.vision.camera.base import Camera, CameraState, Frame, FrameSource, ThreadedCamera
from kiosk.vision.camera.replay import ReplayCamera

DEMO_FACES = REPO_ROOT.parent / "shared" / "faces" / "identities"


def replay_camera(cfg: CameraConfig, clock: Clock | None) -> Camera:
    """Photos or a video played as a camera (the fake, for tests and demos)."""
    source = cfg.replay_source
    if source is None:
        if not DEMO_FACES.is_dir():
            raise CameraError(
                "replay camera has no source: set camera.replay_source to a folder of images "
                "or a video file"
            )
        source = DEMO_FACES
    return ReplayCamera(
        Path(source),
        width=cfg.width,
        height=cfg.height,
        fps=cfg.fps,
        stall_timeout_s=cfg.stall_timeout_s,
        clock=clock,
        hold=max(1, round(cfg.fps)),  # one second per photo
    )


def opencv_camera(cfg: CameraConfig, clock: Clock | None) -> Camera:
    """A V4L2 webcam through OpenCV."""
    from kiosk.vision.camera.opencv import OpenCvSource

    src = OpenCvSource(cfg.device_index, cfg.width, cfg.height, cfg.fps)
    return ThreadedCamera(
        src, fps=cfg.fps, stall_timeout_s=cfg.stall_timeout_s, clock=clock, name="webcam"
    )


def picamera2_camera(cfg: CameraConfig, clock: Clock | None) -> Camera:
    """The Raspberry Pi camera through picamera2."""
    from kiosk.vision.camera.picamera2 import Picamera2Source

    src = Picamera2Source(cfg.width, cfg.height, cfg.fps)
    return ThreadedCamera(
        src, fps=cfg.fps, stall_timeout_s=cfg.stall_timeout_s, clock=clock, name="Pi camera"
    )


def auto_backend(cfg: CameraConfig) -> str:
    """picamera2 if installed, else a V4L2 webcam if /dev/video<index> exists, else replay."""
    if importlib.util.find_spec("picamera2") is not None:
        return "picamera2"
    if Path(f"/dev/video{cfg.device_index}").exists():
        return "opencv"
    return "replay"


def open_camera(cfg: CameraConfig, clock: Clock | None = None) -> Camera:
    """The camera backend ``cfg.backend`` names (not started; call ``start()``)."""
    name = auto_backend(cfg) if cfg.backend == AUTO else cfg.backend
    factory = CAMERAS.factory(name, CameraError)
    return factory(cfg, clock)


__all__ = [
    "Camera",
    "CameraState",
    "Frame",
    "FrameSource",
    "ReplayCamera",
    "ThreadedCamera",
    "auto_backend",
    "open_camera",
]
