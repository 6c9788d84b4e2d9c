"""The declarative pin table (one row per peripheral role) and the builder that wires it."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from gpiozero import (
    LED,
    Button,
    Buzzer,
    DigitalInputDevice,
    DigitalOutputDevice,
    Factory,
    GPIOZeroError,
    OutputDevice,
)
from gpiozero import Device as GpioDevice

from kiosk.config import GpioConfig
from kiosk.errors import ConfigError, HardwareError

from .factory import make_pin_factory


class Kind(StrEnum):
    """What sort of peripheral sits on a pin."""

    LED = "led"
    BUTTON = "button"
    MOTION = "motion"
    BUZZER = "buzzer"
    RELAY = "relay"


@dataclass(frozen=True)
class PinRole:
    """One row of the pin table: a role, its kind, default BCM pin and electrical polarity."""

    role: str
    kind: Kind
    pin: int
    pull_up: bool | None
    active_high: bool
    optional: bool
    description: str


PIN_TABLE: tuple[PinRole, ...] = (
    PinRole("status_led", Kind.LED, 23, None, True, False,
            "Green status LED: ready / busy / offline patterns"),
    PinRole("fault_led", Kind.LED, 24, None, True, True,
            "Red LED: fault (fast blink) and out of service (steady)"),
    PinRole("help_button", Kind.BUTTON, 17, True, False, False,
            "Help button to GND (internal pull-up): calls an agent; hold to cancel"),
    PinRole("presence", Kind.MOTION, 27, False, True, True,
            "PIR presence sensor output (3.3 V, active high): wakes the screen"),
    PinRole("buzzer", Kind.BUZZER, 22, None, True, True,
            "Active buzzer: short chirp when the help button is accepted"),
    PinRole("face_light", Kind.RELAY, 25, None, True, True,
            "Relay or MOSFET for the face light during capture"),
)  # fmt: skip
"""Every role the kiosk knows. BCM numbering; avoids I2C, SPI, UART and I2S pins."""

ROLES: dict[str, PinRole] = {r.role: r for r in PIN_TABLE}


@dataclass(frozen=True)
class ResolvedPin:
    """A role after config overrides: the pin and polarity actually used."""

    spec: PinRole
    pin: int
    active_high: bool

    @property
    def pull_up(self) -> bool | None:
        """Pull resistor for inputs: towards the inactive level; None for outputs."""
        if self.spec.pull_up is None:
            return None
        return not self.active_high


def _problem(field: str, role: str) -> str:
    return f"gpio.{field}: unknown role {role!r}; roles are {', '.join(ROLES)}"


def resolve_pins(gpio_cfg: GpioConfig) -> list[ResolvedPin]:
    """Apply the config's pin, polarity and 'absent' overrides to the table; check conflicts."""
    problems = [_problem("pins", r) for r in gpio_cfg.pins if r not in ROLES]
    problems += [_problem("active_high", r) for r in gpio_cfg.active_high if r not in ROLES]
    problems += [_problem("absent", r) for r in gpio_cfg.absent if r not in ROLES]
    problems += [
        f"gpio.absent: {r!r} is required and cannot be absent"
        for r in gpio_cfg.absent
        if r in ROLES and not ROLES[r].optional
    ]
    resolved = [
        ResolvedPin(
            spec,
            gpio_cfg.pins.get(spec.role, spec.pin),
            gpio_cfg.active_high.get(spec.role, spec.active_high),
        )
        for spec in PIN_TABLE
        if spec.role not in gpio_cfg.absent
    ]
    by_pin: dict[int, list[str]] = {}
    for r in resolved:
        by_pin.setdefault(r.pin, []).append(r.spec.role)
    problems += [
        f"gpio.pins: roles {' and '.join(roles)} share BCM pin {pin}"
        for pin, roles in sorted(by_pin.items())
        if len(roles) > 1
    ]
    if problems:
        raise ConfigError(f"{len(problems)} problem(s) in the GPIO pin table", problems)
    return resolved


def _output(cls: type[GpioDevice]) -> Callable[[ResolvedPin, Factory], GpioDevice]:
    def build(r: ResolvedPin, factory: Factory) -> GpioDevice:
        return cls(r.pin, active_high=r.active_high, initial_value=False, pin_factory=factory)

    return build


def _input(cls: type[GpioDevice], **extra: Any) -> Callable[[ResolvedPin, Factory], GpioDevice]:
    def build(r: ResolvedPin, factory: Factory) -> GpioDevice:
        return cls(r.pin, pull_up=r.pull_up, pin_factory=factory, **extra)

    return build


BUILDERS: dict[Kind, Callable[[ResolvedPin, Factory], GpioDevice]] = {
    Kind.LED: _output(LED),
    Kind.BUZZER: _output(Buzzer),
    Kind.RELAY: _output(DigitalOutputDevice),
    # 50 ms of hardware debounce where the factory supports it (lgpio); the clock-based
    # debounce in inputs.py covers the rest.
    Kind.BUTTON: _input(Button, bounce_time=0.05),
    # A PIR module drives a clean level with its own hold time: a plain digital input, not
    # gpiozero's MotionSensor, whose smoothing thread would run on wall time.
    Kind.MOTION: _input(DigitalInputDevice),
}
"""Kind -> constructor of the gpiozero device for it."""


class Peripherals(Mapping[str, GpioDevice]):
    """The gpiozero devices built from the table, by role; close() releases every pin."""

    def __init__(self, devices: dict[str, GpioDevice], factory: Factory) -> None:
        self._devices = devices
        self.factory = factory

    def __getitem__(self, role: str) -> GpioDevice:
        return self._devices[role]

    def __iter__(self) -> Iterator[str]:
        return iter(self._devices)

    def __len__(self) -> int:
        return len(self._devices)

    def close(self) -> None:
        """Release every pin (outputs go to their inactive level first)."""
        for device in self._devices.values():
            if isinstance(device, OutputDevice):
                with contextlib.suppress(GPIOZeroError):  # already closed
                    device.off()
            device.close()


def build_peripherals(gpio_cfg: GpioConfig, pin_factory: Factory | None = None) -> Peripherals:
    """Build one gpiozero device per fitted role; ``pin_factory`` overrides the config's."""
    resolved = resolve_pins(gpio_cfg)
    factory = pin_factory if pin_factory is not None else make_pin_factory(gpio_cfg.pin_factory)
    devices: dict[str, GpioDevice] = {}
    try:
        for r in resolved:
            devices[r.spec.role] = BUILDERS[r.spec.kind](r, factory)
    except GPIOZeroError as err:
        for device in devices.values():
            device.close()
        raise HardwareError(f"cannot set up GPIO for {r.spec.role} on BCM {r.pin}: {err}") from err
    return Peripherals(devices, factory)
