"""Camera backends behind one interface, chosen by configuration (see :func:`open_camera`)."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path

from kiosk.config import REPO_ROOT, CameraConfig
from kiosk.core.clock import Clock
from kiosk.errors import CameraError
from kiosk.vision.camera.base import Camera, CameraState, Frame, FrameSource, ThreadedCamera
from kiosk.vision.camera.replay import ReplayCamera

DEMO_FACES = REPO_ROOT.parent / "shared" / "faces" / "identities"


def _replay(cfg: CameraConfig, clock: Clock | None) -> Camera:
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


def _opencv(cfg: CameraConfig, clock: Clock | None) -> Camera:
    from kiosk.vision.camera.opencv import OpenCvSource

    src = OpenCvSource(cfg.device_index, cfg.width, cfg.height, cfg.fps)
    return ThreadedCamera(
        src, fps=cfg.fps, stall_timeout_s=cfg.stall_timeout_s, clock=clock, name="webcam"
    )


def _picamera2(cfg: CameraConfig, clock: Clock | None) -> Camera:
    from kiosk.vision.camera.picamera2 import Picamera2Source

    src = Picamera2Source(cfg.width, cfg.height, cfg.fps)
    return ThreadedCamera(
        src, fps=cfg.fps, stall_timeout_s=cfg.stall_timeout_s, clock=clock, name="Pi camera"
    )


BACKENDS: dict[str, Callable[[CameraConfig, Clock | None], Camera]] = {
    "replay": _replay,
    "opencv": _opencv,
    "picamera2": _picamera2,
}


def auto_backend(cfg: CameraConfig) -> str:
    """picamera2 if installed, else a V4L2 webcam if /dev/video<index> exists, else replay."""
    if importlib.util.find_spec("picamera2") is not None:
        return "picamera2"
    if Path(f"/dev/video{cfg.device_index}").exists():
        return "opencv"
    return "replay"


def open_camera(cfg: CameraConfig, clock: Clock | None = None) -> Camera:
    """The camera backend ``cfg.backend`` names (not started; call ``start()``)."""
    name = auto_backend(cfg) if cfg.backend == "auto" else cfg.backend
    try:
        factory = BACKENDS[name]
    except KeyError as err:
        raise CameraError(
            f"unknown camera backend {name!r}; use one of {sorted(BACKENDS)}"
        ) from err
    return factory(cfg, clock)


__all__ = [
    "BACKENDS",
    "Camera",
    "CameraState",
    "Frame",
    "FrameSource",
    "ReplayCamera",
    "ThreadedCamera",
    "auto_backend",
    "open_camera",
]
