"""Load the message schemas and validate/parse JSON messages against them."""

from __future__ import annotations

import functools
import importlib.resources
import json
from typing import Any

import jsonschema

from kiosk.errors import ProtocolError

MAX_MESSAGE_BYTES = 256 * 1024
"""Inbound JSON messages larger than this are refused before parsing (bytes)."""


@functools.cache
def validator(name: str) -> jsonschema.protocols.Validator:
    """The compiled validator for schema ``name`` (e.g. 'ack')."""
    try:
        text = importlib.resources.files("kiosk.uplink.schemas").joinpath(f"{name}.json")
        schema = json.loads(text.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise ProtocolError(f"no schema named {name!r}") from err
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def parse(name: str, payload: bytes) -> dict[str, Any]:
    """Decode ``payload`` as UTF-8 JSON and validate it against schema ``name``."""
    if len(payload) > MAX_MESSAGE_BYTES:
        raise ProtocolError(f"{name} message of {len(payload)} bytes is too large")
    try:
        data = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise ProtocolError(f"{name} message is not UTF-8 JSON") from err
    check(name, data)
    return data


def check(name: str, data: Any) -> None:
    """Raise :class:`ProtocolError` naming the first problem if ``data`` breaks schema ``name``."""
    if isinstance(data, dict) and "v" in data and data["v"] != 1:
        raise ProtocolError(f"{name} message has unsupported version {data['v']!r}")
    error = jsonschema.exceptions.best_match(validator(name).iter_errors(data))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(message)"
        raise ProtocolError(f"{name} message invalid at {where}: {error.message[:200]}")


def dumps(name: str, data: dict[str, Any]) -> bytes:
    """Validate and encode an outgoing message."""
    check(name, data)
    return json.dumps(data, separators=(",", ":")).encode()
