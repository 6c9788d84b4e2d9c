"""Pin factories (rows of ``kiosk.backends.PIN_FACTORIES``): gpiozero's MockFactory off-Pi, lgpio on
the Pi (imported lazily)."""

from __future__ import annotations

from pathlib import Path

from gpiozero import Factory

from kiosk.backends import AUTO, PIN_FACTORIES
from kiosk.errors import HardwareError

MODEL_PATH = Path("/proc/device-tree/model")
"""Where the Linux device tree names the board (e.g. 'Raspberry Pi 5 Model B Rev 1.0')."""


def is_raspberry_pi(model_path: Path = MODEL_PATH) -> bool:
    """True when the device tree says this machine is a Raspberry Pi."""
    try:
        model = model_path.read_bytes().decode("ascii", "replace")
    except OSError:
        return False
    return model.startswith("Raspberry Pi")


def mock_factory() -> Factory:
    """gpiozero's MockFactory: simulated pins that tests can drive and read."""
    from gpiozero.pins.mock import MockFactory

    return MockFactory()


def lgpio_factory() -> Factory:
    """The lgpio factory (Pi 5 and earlier, via /dev/gpiochipN)."""
    try:
        from gpiozero.pins.lgpio import LGPIOFactory
    except ImportError as err:  # lgpio is a C extension shipped as python3-lgpio on the Pi
        raise HardwareError(
            "the lgpio pin factory needs the 'lgpio' module: apt install python3-lgpio "
            "(or pip install lgpio) on the kiosk"
        ) from err
    try:
        return LGPIOFactory()
    except Exception as err:  # lgpio raises its own error type for a missing gpiochip
        raise HardwareError(f"cannot open the GPIO chip with lgpio: {err}") from err


def resolve_factory_name(name: str, model_path: Path = MODEL_PATH) -> str:
    """The concrete backend for a configured name: 'auto' is lgpio on a Pi, else mock."""
    if name == AUTO:
        return "lgpio" if is_raspberry_pi(model_path) else "mock"
    return PIN_FACTORIES.get(name).name


def make_pin_factory(name: str = "auto", model_path: Path = MODEL_PATH) -> Factory:
    """Create the pin factory for ``name`` (auto | mock | lgpio); nothing is opened before."""
    return PIN_FACTORIES.get(resolve_factory_name(name, model_path)).load()()
