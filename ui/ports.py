"""What the UI needs from the rest of the kiosk besides the registration service.

Every one of these is optional in :func:`ui.create_app`; the docstrings say what the screens
do when it is absent. The composition root (``kiosk.app``) adapts real components to them.
"""

from __future__ import annotations

from typing import Protocol


class LiveView(Protocol):
    """The camera as the face-capture screen sees it while the person positions themself.

    Absent: the capture screen shows the oval guide without a preview and no live coaching.
    """

    def coaching(self) -> str | None:
        """The current coaching code (``kiosk.core.biometrics.Coaching`` value), or None."""
        ...

    def preview_jpeg(self) -> bytes | None:
        """The latest frame as JPEG bytes (kept in memory only), or None when none yet."""
        ...


class QrReader(Protocol):
    """Reads a QR code (the IKD app's) from the camera. Absent: the QR option is hidden."""

    def read(self) -> str | None:
        """Decoded text of a QR code seen now, or None."""
        ...


class Presence(Protocol):
    """A presence sensor in front of the kiosk. Absent: the attract screen wakes on touch only."""

    def present(self) -> bool:
        """True while someone stands in front of the kiosk."""
        ...


class AgentCaller(Protocol):
    """Calls a human agent (lamp, buzzer, message). Absent: the screen still tells the person."""

    def call(self, reason: str) -> None:
        """Ask an agent to come; ``reason`` is a short code such as ``button`` or ``face``."""
        ...


class PendingCount(Protocol):
    """Number of records waiting to be sent to the portal (for the footer indicator)."""

    def __call__(self) -> int:
        """Records in the outbox not yet acknowledged."""
        ...
