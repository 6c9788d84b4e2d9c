"""A tiny sd_notify client: READY=1, WATCHDOG=1, STATUS=... over $NOTIFY_SOCKET.

Outside systemd (no ``NOTIFY_SOCKET``) every call is a no-op returning False, so the same code
runs on a developer's laptop. Sending never raises: systemd going away must not kill the kiosk.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping

log = logging.getLogger(__name__)


def _address(raw: str) -> str | bytes:
    """Socket address from NOTIFY_SOCKET; a leading '@' means the Linux abstract namespace."""
    if raw.startswith("@"):
        return b"\0" + raw[1:].encode()
    return raw


class Notifier:
    """Sends state changes to the service manager; see the module docstring."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        environ = os.environ if env is None else env
        raw = environ.get("NOTIFY_SOCKET", "")
        self._address: str | bytes | None = _address(raw) if raw else None
        self._watchdog_usec = environ.get("WATCHDOG_USEC", "")
        self._watchdog_pid = environ.get("WATCHDOG_PID", "")
        self._sock: socket.socket | None = None
        self._warned = False

    @property
    def enabled(self) -> bool:
        """True when running under a service manager that listens."""
        return self._address is not None

    def send(self, **fields: str | int) -> bool:
        """Send KEY=value lines (e.g. ``send(READY=1, STATUS="up")``); True if sent."""
        if self._address is None:
            return False
        lines = []
        for key, value in fields.items():
            text = " ".join(str(value).splitlines())  # one line per field
            lines.append(f"{key}={text}")
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._sock.sendto("\n".join(lines).encode(), self._address)
        except OSError as err:
            if not self._warned:
                log.warning("sd_notify to %r failed: %s", self._address, err)
                self._warned = True
            return False
        return True

    def ready(self, status: str | None = None) -> bool:
        """Tell systemd start-up is complete (Type=notify), optionally with a status line."""
        return self.send(READY=1, STATUS=status) if status else self.send(READY=1)

    def watchdog(self) -> bool:
        """Heartbeat: the main loop is alive (WatchdogSec=)."""
        return self.send(WATCHDOG=1)

    def status(self, text: str) -> bool:
        """One human-readable line shown by ``systemctl status``."""
        return self.send(STATUS=text)

    def stopping(self) -> bool:
        """Tell systemd an orderly shutdown has begun."""
        return self.send(STOPPING=1)

    def watchdog_interval_s(self) -> float | None:
        """How often to send WATCHDOG=1 (half of WatchdogSec), or None if not watched."""
        if not self._watchdog_usec:
            return None
        if self._watchdog_pid and self._watchdog_pid != str(os.getpid()):
            return None  # the variables were meant for another process
        try:
            usec = int(self._watchdog_usec)
        except ValueError:
            return None
        return usec / 2_000_000 if usec > 0 else None

    def close(self) -> None:
        """Close the socket."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None
