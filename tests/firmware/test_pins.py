"""The pin table, config overrides, and the factory registry."""

from __future__ import annotations

from pathlib import Path

import pytest
from gpiozero import LED, Button, DigitalInputDevice, DigitalOutputDevice
from gpiozero.pins.mock import MockFactory

from firmware.factory import is_raspberry_pi, make_pin_factory, resolve_factory_name
from firmware.pins import PIN_TABLE, Kind, build_peripherals, resolve_pins
from kiosk.config import GpioConfig
from kiosk.errors import ConfigError, HardwareError


def test_table_roles_unique_and_pins_distinct() -> None:
    roles = [r.role for r in PIN_TABLE]
    assert len(set(roles)) == len(roles)
    assert len({r.pin for r in PIN_TABLE}) == len(PIN_TABLE)
    # avoid I2C (2, 3), SPI0 (7-11), UART (14, 15) and I2S (18-21)
    assert not {r.pin for r in PIN_TABLE} & {2, 3, 7, 8, 9, 10, 11, 14, 15, 18, 19, 20, 21}


def test_build_default_table(gpio_cfg: GpioConfig, factory: MockFactory) -> None:
    p = build_peripherals(gpio_cfg, factory)
    assert set(p) == {r.role for r in PIN_TABLE}
    assert isinstance(p["status_led"], LED)
    assert isinstance(p["help_button"], Button)
    assert isinstance(p["presence"], DigitalInputDevice)
    assert isinstance(p["face_light"], DigitalOutputDevice)
    assert p["status_led"].pin.info.name == "GPIO23"
    # outputs start off; the button's pull-up makes it read released
    assert factory.pin(23).state is False
    assert p["help_button"].is_active is False
    assert p["help_button"].pull_up is True
    p.close()


def test_pin_and_polarity_overrides(factory: MockFactory) -> None:
    cfg = GpioConfig(
        pin_factory="mock",
        pins={"help_button": 5, "status_led": 6},
        active_high={"face_light": False},
        absent=["buzzer"],
    )
    p = build_peripherals(cfg, factory)
    assert "buzzer" not in p
    assert p["help_button"].pin.info.name == "GPIO5"
    assert p["status_led"].pin.info.name == "GPIO6"
    light = p["face_light"]
    assert factory.pin(25).state is True  # active-low relay idles high (off)
    light.on()
    assert factory.pin(25).state is False
    p.close()


def test_active_low_pir_gets_pull_up() -> None:
    cfg = GpioConfig(active_high={"presence": False})
    (presence,) = [r for r in resolve_pins(cfg) if r.spec.kind is Kind.MOTION]
    assert presence.active_high is False and presence.pull_up is True


@pytest.mark.parametrize(
    ("cfg", "needle"),
    [
        (GpioConfig(pins={"hepl_button": 5}), "unknown role 'hepl_button'"),
        (GpioConfig(active_high={"nope": True}), "unknown role 'nope'"),
        (GpioConfig(absent=["ghost"]), "unknown role 'ghost'"),
        (GpioConfig(absent=["help_button"]), "'help_button' is required"),
        (GpioConfig(pins={"help_button": 23}), "share BCM pin 23"),
    ],
)
def test_bad_pin_config_is_a_clear_error(cfg: GpioConfig, needle: str) -> None:
    with pytest.raises(ConfigError) as exc:
        resolve_pins(cfg)
    assert any(needle in p for p in exc.value.problems)


def test_pin_busy_becomes_hardware_error(gpio_cfg: GpioConfig, factory: MockFactory) -> None:
    squatter = LED(24, pin_factory=factory)  # someone else holds the fault LED pin
    with pytest.raises(HardwareError, match="fault_led on BCM 24"):
        build_peripherals(gpio_cfg, factory)
    squatter.close()
    # the pins opened before the failure were released: building again works
    build_peripherals(gpio_cfg, factory).close()


def test_factory_registry(tmp_path: Path) -> None:
    model = tmp_path / "model"
    assert resolve_factory_name("auto", model) == "mock"  # no device tree: not a Pi
    model.write_bytes(b"Raspberry Pi 5 Model B Rev 1.0\0")
    assert is_raspberry_pi(model)
    assert resolve_factory_name("auto", model) == "lgpio"
    assert resolve_factory_name("mock", model) == "mock"
    assert isinstance(make_pin_factory("mock"), MockFactory)
    with pytest.raises(ConfigError, match="unknown pin factory"):
        resolve_factory_name("rpigpio")


def test_lgpio_missing_is_explained() -> None:
    try:
        import lgpio  # noqa: F401
    except ImportError:
        with pytest.raises(HardwareError, match="python3-lgpio"):
            make_pin_factory("lgpio")
    else:
        pytest.skip("lgpio is installed here; the missing-module path cannot be shown")
