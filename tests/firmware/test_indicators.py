"""LED patterns: the pure timelines, and the driver reproducing them on MockFactory pins."""

from __future__ import annotations

import pytest
from gpiozero import LED
from gpiozero.pins.mock import MockFactory

from firmware.indicators import (
    IndicatorDriver,
    Pattern,
    Status,
    blink,
    flash_every,
    off,
    on,
    pattern_table,
)
from kiosk.core.clock import FakeClock

Timeline = list[tuple[float, bool]]


def observe(
    driver: IndicatorDriver, clock: FakeClock, pins: dict[str, object], duration: float
) -> dict[str, Timeline]:
    """Run the driver event by event (as the device ticker does) and record each pin's edges."""
    start = clock.monotonic()
    seen: dict[str, Timeline] = {role: [(0.0, pin.state)] for role, pin in pins.items()}  # type: ignore[attr-defined]
    while True:
        wait = driver.next_change_in()
        if wait is None or clock.monotonic() - start + wait >= duration:
            return seen
        clock.advance(wait)
        driver.tick()
        t = round(clock.monotonic() - start, 6)
        for role, pin in pins.items():
            if pin.state != seen[role][-1][1]:  # type: ignore[attr-defined]
                seen[role].append((t, pin.state))  # type: ignore[attr-defined]


@pytest.fixture
def leds(factory: MockFactory) -> dict[str, LED]:
    return {
        "status_led": LED(23, pin_factory=factory),
        "fault_led": LED(24, pin_factory=factory),
    }


def pins_of(leds: dict[str, LED]) -> dict[str, object]:
    return {role: led.pin for role, led in leds.items()}


# --- pure patterns -------------------------------------------------------------------------
def test_steady_patterns_have_one_state() -> None:
    assert on().timeline(10) == [(0.0, True)]
    assert off().timeline(10) == [(0.0, False)]


def test_blink_timeline() -> None:
    assert blink(1.0, 1.0).timeline(4.5) == [
        (0.0, True), (1.0, False), (2.0, True), (3.0, False), (4.0, True),
    ]  # fmt: skip


def test_flash_every_timeline() -> None:
    assert flash_every(3.0).timeline(7) == [
        (0.0, True), (0.15, False), (3.0, True), (3.15, False), (6.0, True), (6.15, False),
    ]  # fmt: skip


def test_double_flash_timeline() -> None:
    assert Pattern((0.2, 0.2, 0.2, 1.4)).timeline(2.3) == [
        (0.0, True), (0.2, False), (0.4, True), (0.6, False), (2.0, True), (2.2, False),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("segments", "message"),
    [((1.0,), "on/off pairs"), ((1.0, 0.0), "positive"), ((1.0, -1.0), "positive")],
)
def test_bad_patterns_rejected(segments: tuple[float, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Pattern(segments)


def test_negative_duration_rejected() -> None:
    with pytest.raises(ValueError, match="negative"):
        blink(1, 1).timeline(-1)


def test_every_status_looks_different() -> None:
    for two in (True, False):
        table = pattern_table(3.0, two_leds=two)
        assert set(table) == set(Status)
        looks = {tuple(sorted(row.items())) for row in table.values()}
        assert len(looks) == len(Status)


# --- the driver on mock pins: every status's timeline, asserted --------------------------
EXPECTED_TWO_LEDS: dict[Status, dict[str, Timeline]] = {
    Status.READY: {"status_led": [(0.0, True)], "fault_led": [(0.0, False)]},
    Status.BUSY: {
        "status_led": [(0.0, True), (1.0, False), (2.0, True), (3.0, False), (4.0, True),
                       (5.0, False)],
        "fault_led": [(0.0, False)],
    },
    Status.OFFLINE: {
        "status_led": [(0.0, True), (0.15, False), (3.0, True), (3.15, False)],
        "fault_led": [(0.0, False)],
    },
    Status.FAULT: {
        "status_led": [(0.0, False)],
        "fault_led": [(0.0, True), (0.2, False), (0.4, True), (0.6, False), (0.8, True),
                      (1.0, False)],
    },
    Status.OUT_OF_SERVICE: {"status_led": [(0.0, False)], "fault_led": [(0.0, True)]},
}  # fmt: skip


@pytest.mark.parametrize("status", list(Status))
def test_driver_timeline_two_leds(status: Status, leds: dict[str, LED], clock: FakeClock) -> None:
    driver = IndicatorDriver(leds, pattern_table(3.0), clock)
    driver.set_status(Status.READY if status is not Status.READY else Status.BUSY)
    clock.advance(0.37)  # mid-pattern: the new status must restart its pattern from 0
    driver.set_status(status)
    duration = 1.1 if status is Status.FAULT else 6.0
    seen = observe(driver, clock, pins_of(leds), duration)
    assert seen == EXPECTED_TWO_LEDS[status]


def test_driver_timeline_single_led(factory: MockFactory, clock: FakeClock) -> None:
    led = LED(23, pin_factory=factory)
    driver = IndicatorDriver({"status_led": led}, pattern_table(5.0, two_leds=False), clock)
    driver.set_status("offline")
    assert observe(driver, clock, {"status_led": led.pin}, 11)["status_led"] == [
        (0.0, True), (0.15, False), (5.0, True), (5.15, False), (10.0, True), (10.15, False),
    ]  # fmt: skip
    driver.set_status("out_of_service")
    assert observe(driver, clock, {"status_led": led.pin}, 2.3)["status_led"] == [
        (0.0, True), (0.2, False), (0.4, True), (0.6, False), (2.0, True), (2.2, False),
    ]  # fmt: skip


def test_same_status_does_not_restart_pattern(leds: dict[str, LED], clock: FakeClock) -> None:
    driver = IndicatorDriver(leds, pattern_table(3.0), clock)
    driver.set_status(Status.BUSY)
    clock.advance(1.5)
    driver.set_status(Status.BUSY)  # a repeated call mid-blink must not relight the LED
    assert leds["status_led"].is_lit is False


def test_sparse_ticks_land_on_pattern_state(leds: dict[str, LED], clock: FakeClock) -> None:
    driver = IndicatorDriver(leds, pattern_table(3.0), clock)
    driver.set_status(Status.OFFLINE)
    for dt, lit in [(0.1, True), (0.1, False), (2.85, True), (0.05, True), (0.1, False)]:
        clock.advance(dt)
        driver.tick()
        assert leds["status_led"].is_lit is lit


def test_driver_rejects_unknown_status_and_missing_led(
    leds: dict[str, LED], clock: FakeClock
) -> None:
    driver = IndicatorDriver(leds, pattern_table(3.0), clock)
    with pytest.raises(ValueError):
        driver.set_status("sleeping")
    with pytest.raises(ValueError, match="not fitted"):
        IndicatorDriver({"status_led": leds["status_led"]}, pattern_table(3.0), clock)


def test_next_change_none_when_steady(leds: dict[str, LED], clock: FakeClock) -> None:
    driver = IndicatorDriver(leds, pattern_table(3.0), clock)
    driver.set_status(Status.READY)
    assert driver.next_change_in() is None
    driver.set_status(Status.BUSY)
    assert driver.next_change_in() == pytest.approx(1.0)


def test_the_status_policy_puts_faults_before_people_before_the_network() -> None:
    from firmware.indicators import Status, status_for

    def light(**changes: object) -> Status:
        facts: dict[str, object] = {
            "out_of_service": False,
            "camera_state": "ok",
            "busy": False,
            "waiting_offline": False,
        }
        facts.update(changes)
        return status_for(**facts)  # type: ignore[arg-type]

    assert light() is Status.READY
    assert light(camera_state="starting") is Status.READY
    assert light(waiting_offline=True) is Status.OFFLINE
    assert light(waiting_offline=True, busy=True) is Status.BUSY
    assert light(busy=True, camera_state="stalled") is Status.FAULT
    assert light(camera_state="absent", out_of_service=True) is Status.OUT_OF_SERVICE
