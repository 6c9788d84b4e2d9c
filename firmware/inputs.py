"""The help button and the PIR presence sensor, timed by an injected clock.

gpiozero calls ``when_*`` handlers on its own event thread (synchronously under MockFactory);
time-based behaviour (hold to cancel, no-presence timeout) happens in ``tick()``, which the
device's ticker or a test calls. Callbacks are made outside the lock and never raise into
gpiozero: a failing callback is logged.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

from kiosk.core.clock import Clock

log = logging.getLogger(__name__)


class InputLike(Protocol):
    """The part of a gpiozero input device used here."""

    when_activated: Any
    when_deactivated: Any

    @property
    def is_active(self) -> bool: ...


def _safe(fn: Callable[..., None], *args: object) -> None:
    """Call a user callback; log instead of letting it break the GPIO thread."""
    try:
        fn(*args)
    except Exception:
        log.exception("GPIO callback %s failed", getattr(fn, "__name__", fn))


class HelpButton:
    """Press = call an agent (debounced by clock); hold ``hold_cancel_s`` = cancel the call."""

    def __init__(
        self,
        device: InputLike,
        clock: Clock,
        on_help: Callable[[], None],
        on_cancel: Callable[[], None] | None = None,
        *,
        debounce_s: float = 0.5,
        hold_cancel_s: float = 3.0,
    ) -> None:
        if debounce_s < 0 or hold_cancel_s <= 0:
            raise ValueError("debounce_s must be >= 0 and hold_cancel_s > 0 (seconds)")
        self._device = device
        self._clock = clock
        self._on_help = on_help
        self._on_cancel = on_cancel
        self._debounce_s = debounce_s
        self._hold_s = hold_cancel_s
        self._lock = threading.Lock()
        self._last_edge: float | None = None
        self._pressed_at: float | None = None
        self._accepted_at: float | None = None
        self._cancelled = False
        device.when_activated = self._pressed
        device.when_deactivated = self._released

    def _pressed(self) -> None:
        now = self._clock.monotonic()
        with self._lock:
            bounce = self._last_edge is not None and now - self._last_edge < self._debounce_s
            self._last_edge = now
            if bounce:
                # contact bounce: the press that started it is still the one being held
                if self._pressed_at is None:
                    self._pressed_at = self._accepted_at
                return
            # a new press (even if its release edge was missed: never leave the button dead)
            self._pressed_at = self._accepted_at = now
            self._cancelled = False
        _safe(self._on_help)

    def _released(self) -> None:
        with self._lock:
            self._pressed_at = None

    def tick(self) -> None:
        """Fire the cancel callback once when the button has been held long enough."""
        now = self._clock.monotonic()
        with self._lock:
            if self._pressed_at is not None and not self._device.is_active:
                self._pressed_at = None  # released, even if the edge was missed
            fire = (
                self._pressed_at is not None
                and not self._cancelled
                and self._device.is_active
                and now - self._pressed_at >= self._hold_s
            )
            if fire:
                self._cancelled = True
        if fire and self._on_cancel is not None:
            _safe(self._on_cancel)

    def close(self) -> None:
        """Detach from the gpiozero device."""
        self._device.when_activated = None
        self._device.when_deactivated = None


class PresenceSensor:
    """Motion -> on_presence(True) at once; no motion for ``timeout_s`` -> on_presence(False)."""

    def __init__(
        self,
        device: InputLike,
        clock: Clock,
        on_presence: Callable[[bool], None],
        *,
        timeout_s: float = 90.0,
    ) -> None:
        if timeout_s <= 0:
            raise ValueError("timeout_s must be positive (seconds)")
        self._device = device
        self._clock = clock
        self._on_presence = on_presence
        self._timeout_s = timeout_s
        self._lock = threading.Lock()
        self._present = False
        self._last_motion = clock.monotonic()
        device.when_activated = self._motion
        device.when_deactivated = self._still

    @property
    def present(self) -> bool:
        """Whether someone is believed to be in front of the kiosk."""
        return self._present

    def _motion(self) -> None:
        with self._lock:
            self._last_motion = self._clock.monotonic()
            arrived = not self._present
            self._present = True
        if arrived:
            _safe(self._on_presence, True)

    def _still(self) -> None:
        with self._lock:
            self._last_motion = self._clock.monotonic()

    def tick(self) -> None:
        """Report presence the sensor shows without an edge (e.g. at start-up) and absence
        once nobody has moved for the timeout."""
        now = self._clock.monotonic()
        with self._lock:
            active = self._device.is_active
            arrived = not self._present and active
            left = self._present and not active and now - self._last_motion >= self._timeout_s
            if arrived:
                self._present, self._last_motion = True, now
            elif left:
                self._present = False
        if arrived:
            _safe(self._on_presence, True)
        elif left:
            _safe(self._on_presence, False)

    def close(self) -> None:
        """Detach from the gpiozero device."""
        self._device.when_activated = None
        self._device.when_deactivated = None
