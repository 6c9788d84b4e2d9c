"""Service fixtures: the real face pipeline and demo faces, a fake camera, fake references."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from face_doubles import FakeCamera

from kiosk.config import REPO_ROOT, BiometricsConfig
from kiosk.core.clock import FakeClock
from kiosk.vision.camera.replay import fit_frame
from kiosk.vision.images import load_image
from kiosk.vision.models import ModelPack
from kiosk.vision.pipeline import FacePipeline

SHARED = REPO_ROOT.parent / "shared"
IDENTITIES = SHARED / "faces" / "identities"


@pytest.fixture(scope="session")
def face_pipeline() -> FacePipeline:
    """The real pipeline on the shared model pack, loaded once."""
    models = SHARED / "models"
    if not (models / "SHA256SUMS").is_file():
        pytest.fail(f"model pack missing at {models}: clone the repo beside ../shared")
    return FacePipeline(ModelPack.load(models), BiometricsConfig())


@pytest.fixture(scope="session")
def photo() -> Callable[[str], np.ndarray]:
    """``photo('p05/img59.jpg')``: a shared face photo fitted to a 640x480 frame."""
    cache: dict[str, np.ndarray] = {}

    def load(name: str) -> np.ndarray:
        if name not in cache:
            cache[name] = fit_frame(load_image(IDENTITIES / name, fit=(640, 480)), 640, 480)
        return cache[name]

    return load


@pytest.fixture
def camera(clock: FakeClock) -> FakeCamera:
    """A fake camera on the test clock, showing nothing yet."""
    return FakeCamera(clock)


@pytest.fixture
def blank() -> np.ndarray:
    """A grey frame without a face."""
    return np.full((480, 640, 3), 128, np.uint8)


def people_dir() -> Path:
    """The shared identities folder."""
    return IDENTITIES
