"""Microphone adapters for spoken notes (the ``Microphone`` port of kiosk.services.ports)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiosk.backends import AUTO, MICROPHONES
from kiosk.errors import ConfigError

if TYPE_CHECKING:
    from kiosk.config import MicrophoneConfig
    from kiosk.services.ports import Microphone


PCM_LIST = Path("/proc/asound/pcm")
"""ALSA's list of PCM devices; a capture device's line says ``capture``."""


def auto_backend(pcm_list: Path = PCM_LIST) -> str:
    """What ``auto`` picks (like the camera's): arecord when alsa-utils is installed and ALSA
    lists a capture device, else the tone fake (a kiosk in the field names ``arecord``)."""
    try:
        capture = "capture" in pcm_list.read_text(encoding="utf-8", errors="replace")
    except OSError:
        capture = False
    return "arecord" if capture and shutil.which("arecord") else "tone"


def open_microphone(cfg: MicrophoneConfig) -> Microphone | None:
    """The microphone ``cfg.backend`` names (None: ``none``, notes are typed only)."""
    name = auto_backend() if cfg.backend == AUTO else cfg.backend
    found: Any = MICROPHONES.factory(name, ConfigError)(cfg)
    return found


def no_microphone(_cfg: Any) -> None:
    """The ``none`` backend: no microphone port is wired (the note is typed only)."""
    return None
