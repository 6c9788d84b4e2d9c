"""Shared fixtures: clock, config, data directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.config import KioskConfig
from kiosk.core.clock import FakeClock
from tests.fixtures.app import SHARED, kiosk_cfg

pytest_plugins: list[str] = ["tests.fixtures.mqtt"]


@pytest.fixture
def clock() -> FakeClock:
    """A clock that moves only when the test says so."""
    return FakeClock()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A fresh, empty data directory."""
    d = tmp_path / "data"
    d.mkdir()
    return d


@pytest.fixture
def cfg(data_dir: Path) -> KioskConfig:
    """Demo configuration pointing at a temporary data directory and the shared model pack."""
    return kiosk_cfg(data_dir)


@pytest.fixture
def shared_dir() -> Path:
    """The read-only shared material beside the checkout (models, faces)."""
    if not (SHARED / "models" / "SHA256SUMS").is_file():
        pytest.fail(f"shared material missing at {SHARED}: clone the repo beside ../shared")
    return SHARED
