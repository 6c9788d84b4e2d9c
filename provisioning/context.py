"""What every step needs: the data directory, a clock, the technician, and where to write."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiosk.core.clock import Clock, SystemClock

from .layout import Layout

DEFAULT_NM_DIR = Path("/etc/NetworkManager/system-connections")

Confirm = Callable[[str], bool | None]
"""Ask the technician a yes/no question; None means nobody can answer (non-interactive)."""


def no_one_to_ask(question: str) -> bool | None:
    """The non-interactive confirm: every question stays unanswered ('unconfirmed')."""
    return None


@dataclass
class Context:
    """One provisioning run's environment."""

    data_dir: Path
    clock: Clock = field(default_factory=SystemClock)
    confirm: Confirm = no_one_to_ask
    nm_dir: Path = DEFAULT_NM_DIR
    say: Callable[[str], None] = print
    probes: Any = None
    """Self-test probes (``provisioning.selftest.Probes``); None = the real machine."""

    @property
    def layout(self) -> Layout:
        """Paths under the data directory."""
        return Layout(self.data_dir)
