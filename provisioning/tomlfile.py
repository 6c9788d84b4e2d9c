"""Read, merge, validate and atomically rewrite the kiosk's TOML config (``kiosk.toml``)."""

from __future__ import annotations

import json
import math
import re
import tomllib
from pathlib import Path
from typing import Any

from kiosk.config import KioskConfig, parse_config
from kiosk.errors import ConfigError

from .errors import StepError
from .fsutil import write_text_atomic

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(name: str) -> str:
    return name if _BARE_KEY.match(name) else json.dumps(name)


def _value(value: Any) -> str:
    """One TOML value (strings use JSON escapes, which TOML basic strings accept)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("TOML config values must be finite numbers")
        return repr(value)
    if isinstance(value, Path):
        return json.dumps(str(value))
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def render(data: dict[str, Any], _prefix: str = "") -> str:
    """TOML text for nested tables of scalars and lists (the shape of the kiosk config)."""
    lines: list[str] = []
    tables: list[tuple[str, dict[str, Any]]] = []
    for name, value in data.items():
        if isinstance(value, dict):
            tables.append((name, value))
        elif value is not None:
            lines.append(f"{_key(name)} = {_value(value)}")
    out = "\n".join(lines) + ("\n" if lines else "")
    for name, table in tables:
        header = f"{_prefix}{_key(name)}"
        body = render(table, header + ".")
        scalar_part = any(not isinstance(v, dict) for v in table.values())
        out += ("\n" if out else "") + (f"[{header}]\n" if scalar_part or not table else "")
        out += body
    return out


def merge(base: dict[str, Any], updates: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge ``updates`` into a copy of ``base``; a None value removes the key."""
    result = dict(base)
    for key, value in updates.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merge(result[key], value)
        else:
            result[key] = value
    return result


def read_raw(path: Path) -> dict[str, Any]:
    """The config file as a dict ({} when absent); a broken file is a clear StepError."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise StepError(
            "config_unreadable",
            f"the kiosk config {path} cannot be read: {err}",
            f"move {path} aside and run the village and network steps again",
        ) from err


def update_config(path: Path, updates: dict[str, Any]) -> KioskConfig:
    """Merge ``updates`` into the config at ``path``, validate, then replace it atomically."""
    merged = merge(read_raw(path), updates)
    try:
        cfg = parse_config(merged, base_dir=path.parent)
    except ConfigError as err:
        raise StepError(
            "config_invalid",
            "the new settings are not a valid kiosk configuration: " + "; ".join(err.problems),
            "correct the value named above and run the step again (nothing was changed)",
        ) from err
    write_text_atomic(
        path,
        "# Written by kiosk-provision; see docs/provisioning.md\n\n" + render(merged),
        mode=0o640,
    )
    return cfg


def load_kiosk_config(path: Path) -> KioskConfig:
    """The validated config at ``path`` (defaults when the file is absent)."""
    try:
        return parse_config(read_raw(path), base_dir=path.parent)
    except ConfigError as err:
        raise StepError(
            "config_invalid",
            f"the kiosk config {path} is invalid: " + "; ".join(err.problems),
            "run the village and network steps again to rewrite it",
        ) from err
