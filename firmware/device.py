"""The kiosk's physical face: status lights, help button, presence sensor, buzzer, face light.

:func:`build_device` is what the composition root calls. One ``tick()`` advances everything
that depends on time; on the device a small background thread ticks at the next LED edge (or
every ``max_tick_s``), in tests nobody starts it and the test ticks a fake clock.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from gpiozero import Factory

from kiosk.config import GpioConfig
from kiosk.core.clock import Clock

from .indicators import IndicatorDriver, Status, Switchable, pattern_table
from .inputs import HelpButton, PresenceSensor
from .pins import Peripherals, build_peripherals

log = logging.getLogger(__name__)

CHIRP_S = 0.12
"""Length of the buzzer chirp that acknowledges a help press, seconds."""


class Device:
    """The built peripherals and the behaviour on top of them; see the module docstring."""

    def __init__(
        self,
        peripherals: Peripherals,
        clock: Clock,
        *,
        on_help: Callable[[], None],
        on_presence: Callable[[bool], None],
        on_help_cancel: Callable[[], None] | None,
        gpio_cfg: GpioConfig,
    ) -> None:
        self.peripherals = peripherals
        self._clock = clock
        self._lock = threading.RLock()
        self._on_help = on_help
        self._chirp_until: float | None = None
        leds: dict[str, Switchable] = {
            role: peripherals[role] for role in ("status_led", "fault_led") if role in peripherals
        }
        table = pattern_table(gpio_cfg.offline_flash_every_s, two_leds="fault_led" in leds)
        self.indicators = IndicatorDriver(leds, table, clock)
        self.help = HelpButton(
            peripherals["help_button"],
            clock,
            self._help_pressed,
            on_help_cancel,
            hold_cancel_s=gpio_cfg.help_hold_cancel_s,
        )
        self.presence: PresenceSensor | None = None
        if "presence" in peripherals:
            self.presence = PresenceSensor(
                peripherals["presence"], clock, on_presence, timeout_s=gpio_cfg.presence_timeout_s
            )
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def status(self) -> Status:
        """The status the lights are showing."""
        return self.indicators.status

    def set_status(self, status: Status | str) -> None:
        """Show ready / busy / offline / fault / out_of_service on the LEDs."""
        with self._lock:
            self.indicators.set_status(status)
        self._wake.set()

    def set_face_light(self, on: bool) -> None:
        """Switch the face light relay (no-op when none is fitted)."""
        light = self.peripherals.get("face_light")
        if light is not None:
            with self._lock:
                (light.on if on else light.off)()

    @property
    def can_alert(self) -> bool:
        """True when a buzzer is fitted, so a help request can be heard in the office."""
        return self.peripherals.get("buzzer") is not None

    def alert(self) -> None:
        """Chirp the buzzer (no-op when none is fitted): someone at the kiosk asks for help."""
        buzzer = self.peripherals.get("buzzer")
        if buzzer is not None:
            with self._lock:
                buzzer.on()
                self._chirp_until = self._clock.monotonic() + CHIRP_S
            self._wake.set()

    def _help_pressed(self) -> None:
        self.alert()
        self._on_help()

    def tick(self) -> None:
        """Advance LEDs, buzzer, hold-to-cancel and the presence timeout to the clock's now."""
        with self._lock:
            self.indicators.tick()
            if self._chirp_until is not None and self._clock.monotonic() >= self._chirp_until:
                self.peripherals["buzzer"].off()
                self._chirp_until = None
        self.help.tick()
        if self.presence is not None:
            self.presence.tick()

    def _next_wait(self, max_tick_s: float) -> float:
        waits = [max_tick_s]
        with self._lock:
            edge = self.indicators.next_change_in()
            if edge is not None:
                waits.append(edge)
            if self._chirp_until is not None:
                waits.append(self._chirp_until - self._clock.monotonic())
        return max(0.005, min(waits))

    def start(self, max_tick_s: float = 0.25) -> None:
        """Tick in a background daemon thread (real clock; not used by unit tests)."""
        if self._thread is not None:
            return

        def run() -> None:
            while not self._stop.is_set():
                try:
                    self.tick()
                except Exception:
                    log.exception("device tick failed")
                self._wake.wait(self._next_wait(max_tick_s))
                self._wake.clear()

        self._thread = threading.Thread(target=run, name="device-ticker", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop ticking, switch outputs off and release every pin."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None
        self.help.close()
        if self.presence is not None:
            self.presence.close()
        self.peripherals.close()


def build_device(
    gpio_cfg: GpioConfig,
    *,
    on_help: Callable[[], None],
    on_presence: Callable[[bool], None],
    clock: Clock,
    on_help_cancel: Callable[[], None] | None = None,
    pin_factory: Factory | None = None,
    background: bool = True,
) -> Device:
    """Build the kiosk's peripherals from config and start ticking them (``background``)."""
    peripherals = build_peripherals(gpio_cfg, pin_factory)
    try:
        device = Device(
            peripherals,
            clock,
            on_help=on_help,
            on_presence=on_presence,
            on_help_cancel=on_help_cancel,
            gpio_cfg=gpio_cfg,
        )
    except Exception:
        peripherals.close()
        raise
    if background:
        device.start()
    return device
