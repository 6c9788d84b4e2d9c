"""Help button, presence sensor, buzzer and face light through build_device on MockFactory."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from gpiozero.pins.mock import MockFactory

from firmware import Device, Status, build_device
from kiosk.config import GpioConfig
from kiosk.core.clock import FakeClock


class Calls:
    """Records callback invocations."""

    def __init__(self) -> None:
        self.help = 0
        self.cancel = 0
        self.presence: list[bool] = []

    def on_help(self) -> None:
        self.help += 1

    def on_cancel(self) -> None:
        self.cancel += 1

    def on_presence(self, present: bool) -> None:
        self.presence.append(present)


@pytest.fixture
def calls() -> Calls:
    return Calls()


def make(cfg: GpioConfig, factory: MockFactory, clock: FakeClock, calls: Calls) -> Device:
    return build_device(
        cfg,
        on_help=calls.on_help,
        on_presence=calls.on_presence,
        on_help_cancel=calls.on_cancel,
        clock=clock,
        pin_factory=factory,
        background=False,
    )


@pytest.fixture
def device(
    gpio_cfg: GpioConfig, factory: MockFactory, clock: FakeClock, calls: Calls
) -> Iterator[Device]:
    d = make(gpio_cfg, factory, clock, calls)
    yield d
    d.close()


BUTTON, PIR, BUZZER, LIGHT, GREEN, RED = 17, 27, 22, 25, 23, 24


def press(factory: MockFactory) -> None:
    factory.pin(BUTTON).drive_low()  # the button pulls the pin to ground


def release(factory: MockFactory) -> None:
    factory.pin(BUTTON).drive_high()


# --- help button ---------------------------------------------------------------------------
def test_press_calls_agent_once_and_chirps(
    device: Device, factory: MockFactory, clock: FakeClock, calls: Calls
) -> None:
    press(factory)
    assert calls.help == 1
    assert factory.pin(BUZZER).state is True
    clock.advance(0.1)
    device.tick()
    assert factory.pin(BUZZER).state is True
    clock.advance(0.05)
    device.tick()
    assert factory.pin(BUZZER).state is False
    release(factory)
    assert calls.help == 1 and calls.cancel == 0


def test_contact_bounce_is_one_press(
    device: Device, factory: MockFactory, clock: FakeClock, calls: Calls
) -> None:
    for _ in range(4):  # chatter within a few ms
        press(factory)
        clock.advance(0.005)
        release(factory)
        clock.advance(0.005)
    press(factory)
    assert calls.help == 1
    release(factory)
    clock.advance(1.0)
    press(factory)  # a deliberate second press later counts
    assert calls.help == 2
    release(factory)  # (a held button makes gpiozero's hold thread slow to close)


def test_hold_cancels_once(
    device: Device, factory: MockFactory, clock: FakeClock, calls: Calls
) -> None:
    press(factory)
    clock.advance(2.9)
    device.tick()
    assert calls.cancel == 0
    clock.advance(0.1)
    device.tick()
    clock.advance(5)
    device.tick()
    assert (calls.help, calls.cancel) == (1, 1)
    release(factory)


def test_hold_survives_bounce(
    device: Device, factory: MockFactory, clock: FakeClock, calls: Calls
) -> None:
    press(factory)
    clock.advance(0.01)
    release(factory)  # a bounce in the middle of holding
    press(factory)
    clock.advance(3.0)
    device.tick()
    assert (calls.help, calls.cancel) == (1, 1)
    release(factory)


def test_short_press_does_not_cancel(
    device: Device, factory: MockFactory, clock: FakeClock, calls: Calls
) -> None:
    press(factory)
    clock.advance(1.0)
    release(factory)
    clock.advance(5.0)
    device.tick()
    assert (calls.help, calls.cancel) == (1, 0)


def test_failing_callback_does_not_break_the_button(
    gpio_cfg: GpioConfig, factory: MockFactory, clock: FakeClock
) -> None:
    seen: list[int] = []

    def boom() -> None:
        seen.append(1)
        raise RuntimeError("agent screen unreachable")

    d = build_device(
        gpio_cfg, on_help=boom, on_presence=lambda p: None, clock=clock,
        pin_factory=factory, background=False,
    )  # fmt: skip
    press(factory)
    release(factory)
    clock.advance(1)
    press(factory)
    assert seen == [1, 1]
    release(factory)
    d.close()


# --- presence ------------------------------------------------------------------------------
def test_presence_arrives_and_times_out(
    device: Device, factory: MockFactory, clock: FakeClock, calls: Calls
) -> None:
    pir = factory.pin(PIR)
    pir.drive_high()
    assert calls.presence == [True]
    pir.drive_low()
    clock.advance(60)
    pir.drive_high()  # moved again: still the same visit, no second True
    pir.drive_low()
    clock.advance(89.9)
    device.tick()
    assert calls.presence == [True]
    clock.advance(0.1)
    device.tick()
    assert calls.presence == [True, False]
    clock.advance(500)
    device.tick()
    assert calls.presence == [True, False]  # reported once
    pir.drive_high()
    assert calls.presence == [True, False, True]


def test_presence_held_high_is_not_absence(
    device: Device, factory: MockFactory, clock: FakeClock, calls: Calls
) -> None:
    factory.pin(PIR).drive_high()
    clock.advance(1000)  # someone standing still in front of a PIR that keeps its output high
    device.tick()
    assert calls.presence == [True]


def test_presence_timeout_from_config(factory: MockFactory, clock: FakeClock, calls: Calls) -> None:
    d = make(GpioConfig(presence_timeout_s=10), factory, clock, calls)
    factory.pin(PIR).drive_high()
    factory.pin(PIR).drive_low()
    clock.advance(10)
    d.tick()
    assert calls.presence == [True, False]
    d.close()


# --- lights and relay ----------------------------------------------------------------------
def test_status_and_face_light(device: Device, factory: MockFactory, clock: FakeClock) -> None:
    assert device.status is Status.BUSY  # booting
    device.set_status("ready")
    assert (factory.pin(GREEN).state, factory.pin(RED).state) == (True, False)
    device.set_status(Status.OUT_OF_SERVICE)
    assert (factory.pin(GREEN).state, factory.pin(RED).state) == (False, True)
    device.set_face_light(True)
    assert factory.pin(LIGHT).state is True
    device.set_face_light(False)
    assert factory.pin(LIGHT).state is False
    with pytest.raises(ValueError):
        device.set_status("asleep")


def test_minimal_kit_single_led(factory: MockFactory, clock: FakeClock, calls: Calls) -> None:
    cfg = GpioConfig(absent=["fault_led", "presence", "buzzer", "face_light"])
    d = make(cfg, factory, clock, calls)
    d.set_status("fault")
    assert factory.pin(GREEN).state is True
    clock.advance(0.2)
    d.tick()
    assert factory.pin(GREEN).state is False
    d.set_face_light(True)  # no relay fitted: nothing happens, nothing fails
    press(factory)
    assert calls.help == 1
    release(factory)
    d.close()


def test_close_releases_pins_and_switches_off(
    gpio_cfg: GpioConfig, factory: MockFactory, clock: FakeClock, calls: Calls
) -> None:
    d = make(gpio_cfg, factory, clock, calls)
    d.set_status("ready")
    d.close()
    assert factory.pin(GREEN).state is False
    make(gpio_cfg, factory, clock, calls).close()  # pins are free again


def test_background_ticker_runs_and_stops(
    gpio_cfg: GpioConfig, factory: MockFactory, clock: FakeClock, calls: Calls
) -> None:
    d = build_device(
        gpio_cfg, on_help=calls.on_help, on_presence=calls.on_presence, clock=clock,
        pin_factory=factory,
    )  # fmt: skip
    assert d._thread is not None and d._thread.is_alive()
    thread = d._thread
    d.close()
    assert not thread.is_alive()


def test_missed_release_edge_does_not_kill_the_button(clock: FakeClock, calls: Calls) -> None:
    from firmware.inputs import HelpButton

    class Flaky:
        """An input whose edges the test delivers by hand (as if some were lost)."""

        when_activated = None
        when_deactivated = None
        is_active = False

    dev = Flaky()
    button = HelpButton(dev, clock, calls.on_help, calls.on_cancel)
    dev.is_active = True
    dev.when_activated()  # type: ignore[misc]
    dev.is_active = False  # released, but the release edge never arrives
    clock.advance(5)
    button.tick()
    assert calls.cancel == 0  # not "held for 5 s"
    dev.is_active = True
    dev.when_activated()  # type: ignore[misc]
    assert calls.help == 2  # the next press still calls an agent


def test_presence_already_there_at_start(clock: FakeClock, calls: Calls) -> None:
    from firmware.inputs import PresenceSensor

    class Pir:
        """A PIR already high when the kiosk starts: gpiozero fires no edge for that."""

        when_activated = None
        when_deactivated = None
        is_active = True

    pir = Pir()
    sensor = PresenceSensor(pir, clock, calls.on_presence, timeout_s=10)
    assert calls.presence == []
    sensor.tick()
    assert calls.presence == [True] and sensor.present
    sensor.tick()
    assert calls.presence == [True]
    pir.is_active = False
    clock.advance(10)
    sensor.tick()
    assert calls.presence == [True, False]
