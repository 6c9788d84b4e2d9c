"""Load the message schemas and validate/parse JSON messages against them."""

from __future__ import annotations

import functools
import importlib.resources
import json
import re
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


_UUID7 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
_ACK_KEYS = frozenset({"v", "record_id", "result", "at", "reason"})


def _number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _ack_ok(d: Any) -> bool:
    """Hand-written equivalent of schemas/ack.json (the hot path: one ack per record)."""
    return (
        isinstance(d, dict)
        and {"v", "record_id", "result", "at"} <= d.keys() <= _ACK_KEYS
        and d["v"] == 1
        and not isinstance(d["v"], bool)
        and isinstance(d["record_id"], str)
        and _UUID7.match(d["record_id"]) is not None
        and "\n" not in d["record_id"]
        and d["result"] in ("stored", "duplicate", "rejected")
        and _number(d["at"])
        and d["at"] >= 0
        and (d.get("reason") is None or (isinstance(d["reason"], str) and len(d["reason"]) <= 500))
    )


FAST_CHECKS: dict[str, Any] = {"ack": _ack_ok}
"""Schema name -> hand-written validity test that agrees with the schema (tested); a message it
accepts skips jsonschema, anything else gets the full validation and its error message."""


def check(name: str, data: Any) -> None:
    """Raise :class:`ProtocolError` naming the first problem if ``data`` breaks schema ``name``."""
    fast = FAST_CHECKS.get(name)
    if fast is not None and fast(data):
        return
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
