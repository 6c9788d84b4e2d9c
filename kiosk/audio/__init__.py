"""Microphone adapters for spoken notes (the ``Microphone`` port of kiosk.services.ports)."""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING, Any

from kiosk.backends import AUTO, MICROPHONES
from kiosk.errors import ConfigError

if TYPE_CHECKING:
    from kiosk.config import MicrophoneConfig
    from kiosk.services.ports import Microphone


def auto_backend() -> str:
    """What ``auto`` picks: arecord when alsa-utils is installed, else the tone fake."""
    return "arecord" if shutil.which("arecord") else "tone"


def open_microphone(cfg: MicrophoneConfig) -> Microphone | None:
    """The microphone ``cfg.backend`` names (None: ``none``, notes are typed only)."""
    name = auto_backend() if cfg.backend == AUTO else cfg.backend
    found: Any = MICROPHONES.factory(name, ConfigError)(cfg)
    return found


def no_microphone(_cfg: Any) -> None:
    """The ``none`` backend: no microphone port is wired (the note is typed only)."""
    return None
