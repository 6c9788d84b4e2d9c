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


@pytest.fixture
def run(
    cfg: KioskConfig, tmp_path: Path, chromium: Any, request: pytest.FixtureRequest
) -> Iterator[Any]:
    """A served UI kit with agent mode in one 800x480 page (``browser.kiosk_run``); the test
    module names its screenshots with ``RUN_PREFIX``, sets ``RUN_HELP_CALLER`` for a real
    "call an agent" and ``RUN_TIMEOUT_MS`` for a longer wait. Modules with a set-up of their
    own define their own ``run``."""
    from browser import kiosk_run

    prefix = f"{request.module.RUN_PREFIX}-{request.node.originalname.removeprefix('test_')}-"
    helper = getattr(request.module, "RUN_HELP_CALLER", False)
    timeout_ms = getattr(request.module, "RUN_TIMEOUT_MS", 15_000)
    with kiosk_run(
        chromium, cfg, tmp_path, prefix, help_caller=helper, timeout_ms=timeout_ms
    ) as page_run:
        yield page_run
