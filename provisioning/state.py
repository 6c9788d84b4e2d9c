"""The resumable provisioning state: ``<data_dir>/provisioning/state.json``, written atomically."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import StepError
from .fsutil import write_text_atomic

STATE_VERSION = 1


@dataclass
class StepRecord:
    """What happened to one step: status (done/failed/waiting), when (epoch s), details."""

    status: str
    at: float
    summary: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    code: str | None = None
    fix: str | None = None


@dataclass
class State:
    """Every step's record and the inputs the technician gave (so a re-run can resume)."""

    steps: dict[str, StepRecord] = field(default_factory=dict)
    inputs: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> State:
        """Read the state file; a fresh state when there is none."""
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError) as err:
            raise StepError(
                "state_unreadable",
                f"the provisioning state {path} is unreadable: {err}",
                f"delete {path}; every step re-checks its own result, so finished steps "
                "are recognised again",
            ) from err
        if not isinstance(raw, dict) or raw.get("version") != STATE_VERSION:
            raise StepError(
                "state_version",
                f"the provisioning state {path} is of an unknown version",
                f"delete {path} and run kiosk-provision again",
            )
        steps = {name: StepRecord(**rec) for name, rec in raw.get("steps", {}).items()}
        return cls(steps=steps, inputs=dict(raw.get("inputs", {})))

    def save(self, path: Path) -> None:
        """Write atomically (temporary file, fsync, rename)."""
        data = {
            "version": STATE_VERSION,
            "steps": {name: rec.__dict__ for name, rec in self.steps.items()},
            "inputs": self.inputs,
        }
        write_text_atomic(path, json.dumps(data, indent=2, sort_keys=True) + "\n", mode=0o600)
