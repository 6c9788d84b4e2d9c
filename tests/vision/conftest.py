"""Vision fixtures: the real model pack and face images beside the checkout, loaded once."""

from __future__ import annotations

import shutil
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
MODELS = SHARED / "models"
FACES = SHARED / "faces"
IDENTITIES = FACES / "identities"


@pytest.fixture(scope="session")
def models_dir() -> Path:
    """The real model pack (fails loudly when the shared folder is missing)."""
    if not (MODELS / "SHA256SUMS").is_file():
        pytest.fail(f"model pack missing at {MODELS}: clone the repo beside ../shared")
    return MODELS


@pytest.fixture(scope="session")
def pack(models_dir: Path) -> ModelPack:
    """All six models, verified and loaded once per test session."""
    return ModelPack.load(models_dir)


@pytest.fixture(scope="session")
def pipeline(pack: ModelPack) -> FacePipeline:
    """The face pipeline with the default thresholds."""
    return FacePipeline(pack, BiometricsConfig())


@pytest.fixture(scope="session")
def face_paths() -> dict[str, list[Path]]:
    """person id -> image paths of the shared identities."""
    if not IDENTITIES.is_dir():
        pytest.fail(f"face fixtures missing at {IDENTITIES}")
    return {p.name: sorted(p.glob("*.jpg")) for p in sorted(IDENTITIES.iterdir()) if p.is_dir()}


@pytest.fixture(scope="session")
def face_image(face_paths: dict[str, list[Path]]) -> np.ndarray:
    """One frontal, well-lit photo (p03/img8.jpg) as RGB."""
    return load_image(IDENTITIES / "p03" / "img8.jpg")


@pytest.fixture
def pack_copy(tmp_path: Path, models_dir: Path) -> Path:
    """A writable copy of the model pack to damage."""
    dst = tmp_path / "models"
    shutil.copytree(models_dir, dst)
    for p in dst.rglob("*"):
        p.chmod(0o644 if p.is_file() else 0o755)
    dst.chmod(0o755)
    return dst


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
