"""UI fixtures; the kit they build lives in ``ui_kit.py``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ui_kit import Kit, build_kit

from kiosk.config import KioskConfig


@pytest.fixture
def kit(cfg: KioskConfig, tmp_path: Path) -> Kit:
    """The UI over real services, doubles at the edges."""
    return build_kit(cfg, tmp_path)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Debian's headless Chromium through Playwright (never a downloaded browser)."""
    from browser import launch_chromium

    with launch_chromium() as browser:
        yield browser
