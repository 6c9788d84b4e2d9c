"""Status LEDs: what each kiosk status looks like, as a table of blink patterns, and a driver.

Patterns are pure data (:class:`Pattern`); :meth:`Pattern.timeline` turns one into the exact
list of (seconds, on/off) changes, and :class:`IndicatorDriver` applies the table to real (or
mock) LEDs each time it is ticked, reading an injected clock. Nothing here sleeps.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from kiosk.core.clock import Clock

EDGE_EPS_S = 1e-9
"""A time this close to a pattern edge counts as past it (absorbs float rounding), seconds."""


class Status(StrEnum):
    """What the kiosk tells people through its lights."""

    READY = "ready"
    BUSY = "busy"
    OFFLINE = "offline"
    FAULT = "fault"
    OUT_OF_SERVICE = "out_of_service"


def status_for(
    *, out_of_service: bool, camera_state: str, busy: bool, waiting_offline: bool
) -> Status:
    """The one LED status policy: out of service, then a camera fault, then busy with a
    person, then records waiting while offline, else ready."""
    if out_of_service:
        return Status.OUT_OF_SERVICE
    if camera_state not in ("ok", "starting"):
        return Status.FAULT
    if busy:
        return Status.BUSY
    if waiting_offline:
        return Status.OFFLINE
    return Status.READY


@dataclass(frozen=True)
class Pattern:
    """A repeating light pattern: alternating on/off durations in seconds, starting with on.

    An empty ``segments`` is a steady light, on or off as ``steady`` says.
    """

    segments: tuple[float, ...] = ()
    steady: bool = False

    def __post_init__(self) -> None:
        if len(self.segments) % 2:
            raise ValueError("a pattern needs on/off pairs (an even number of segments)")
        if any(not (s > 0 and math.isfinite(s)) for s in self.segments):
            raise ValueError("every pattern segment must be a positive number of seconds")

    @property
    def period(self) -> float:
        """Length of one cycle, seconds (0 for a steady light)."""
        return sum(self.segments)

    def state_at(self, elapsed: float) -> bool:
        """On or off, ``elapsed`` seconds after the pattern started."""
        if not self.segments:
            return self.steady
        phase = elapsed % self.period
        on = True
        for seg in self.segments:
            if phase < seg - EDGE_EPS_S:
                return on
            phase -= seg
            on = not on
        return on  # unreachable except for float rounding at the very end of a cycle

    def timeline(self, duration: float) -> list[tuple[float, bool]]:
        """Every change in ``[0, duration)`` as (seconds since start, on), starting at 0."""
        if duration < 0:
            raise ValueError("duration must not be negative")
        changes = [(0.0, self.state_at(0.0))]
        if not self.segments:
            return changes
        t, on, i = 0.0, True, 0
        while True:
            t += self.segments[i % len(self.segments)]
            i += 1
            on = not on
            if t >= duration:
                return changes
            changes.append((round(t, 9), on))


def on() -> Pattern:
    """A steady light."""
    return Pattern(steady=True)


def off() -> Pattern:
    """A dark LED."""
    return Pattern(steady=False)


def blink(on_s: float, off_s: float) -> Pattern:
    """Even blinking: ``on_s`` seconds on, ``off_s`` seconds off."""
    return Pattern((on_s, off_s))


def flash_every(every_s: float, flash_s: float = 0.15) -> Pattern:
    """One short flash of ``flash_s`` seconds every ``every_s`` seconds."""
    return Pattern((flash_s, every_s - flash_s))


PatternTable = Mapping[Status, Mapping[str, Pattern]]


def pattern_table(offline_every_s: float = 3.0, *, two_leds: bool = True) -> PatternTable:
    """The status -> {LED role: pattern} table, for a green+red pair or a single green LED."""
    if two_leds:
        return {
            Status.READY: {"status_led": on(), "fault_led": off()},
            Status.BUSY: {"status_led": blink(1.0, 1.0), "fault_led": off()},
            Status.OFFLINE: {"status_led": flash_every(offline_every_s), "fault_led": off()},
            Status.FAULT: {"status_led": off(), "fault_led": blink(0.2, 0.2)},
            Status.OUT_OF_SERVICE: {"status_led": off(), "fault_led": on()},
        }
    return {
        Status.READY: {"status_led": on()},
        Status.BUSY: {"status_led": blink(1.0, 1.0)},
        Status.OFFLINE: {"status_led": flash_every(offline_every_s)},
        Status.FAULT: {"status_led": blink(0.2, 0.2)},
        # double flash, then dark: "call the technician"
        Status.OUT_OF_SERVICE: {"status_led": Pattern((0.2, 0.2, 0.2, 1.4))},
    }


class Switchable(Protocol):
    """Anything with on(), off() and is_active: a gpiozero LED, Buzzer or output device."""

    def on(self) -> None: ...
    def off(self) -> None: ...

    @property
    def is_active(self) -> bool: ...


class IndicatorDriver:
    """Applies the pattern table for the current status to the LEDs each time it is ticked."""

    def __init__(self, leds: Mapping[str, Switchable], table: PatternTable, clock: Clock) -> None:
        missing = {role for row in table.values() for role in row} - set(leds)
        if missing:
            raise ValueError(f"pattern table uses LEDs that are not fitted: {sorted(missing)}")
        self._leds = leds
        self._table = table
        self._clock = clock
        self._status = Status.BUSY
        self._origin = clock.monotonic()
        self.tick()

    @property
    def status(self) -> Status:
        """The status being shown."""
        return self._status

    def set_status(self, status: Status | str) -> None:
        """Show ``status``; its pattern restarts from its beginning only when it changes."""
        new = Status(status)
        if new != self._status:
            self._status = new
            self._origin = self._clock.monotonic()
        self.tick()

    def tick(self) -> None:
        """Bring every LED to the state its pattern wants now."""
        elapsed = self._clock.monotonic() - self._origin
        for role, pattern in self._table[self._status].items():
            led = self._leds[role]
            want = pattern.state_at(elapsed)
            if led.is_active != want:
                (led.on if want else led.off)()

    def next_change_in(self) -> float | None:
        """Seconds until some LED must change (None when every light is steady)."""
        elapsed = self._clock.monotonic() - self._origin
        waits = []
        for pattern in self._table[self._status].values():
            if not pattern.segments:
                continue
            phase = elapsed % pattern.period
            edge = 0.0
            for seg in pattern.segments:
                edge += seg
                if edge > phase + EDGE_EPS_S:
                    waits.append(edge - phase)
                    break
            else:  # at the very end of a cycle: the next edge ends the first segment
                waits.append(pattern.period - phase + pattern.segments[0])
        return min(waits) if waits else None
