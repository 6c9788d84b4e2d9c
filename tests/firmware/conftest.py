"""Firmware fixtures: a fresh MockFactory per test and a GPIO config using it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from gpiozero.pins.mock import MockFactory

from kiosk.config import GpioConfig


@pytest.fixture
def factory() -> Iterator[MockFactory]:
    """gpiozero's simulated pins; reset after the test so pins can be reused."""
    f = MockFactory()
    yield f
    f.reset()


@pytest.fixture
def gpio_cfg() -> GpioConfig:
    """Default pin table on the mock factory."""
    return GpioConfig(pin_factory="mock")
