"""Load the message schemas and validate/parse JSON messages against them."""

from __future__ import annotations

import functools
import importlib.resources
import json
import re
from typing import Any

import jsonschema

from kiosk.crypto.signed import RejectedMessage
from kiosk.errors import ProtocolError
from kiosk.uplink.topics import Name

MAX_MESSAGE_BYTES = 256 * 1024
"""Inbound JSON messages larger than this are refused before parsing (bytes)."""

MAX_DEPTH = 32
"""Deepest nesting of arrays/objects accepted in an inbound message; checked before parsing
(``json.loads`` recurses, so a deep array would raise RecursionError in the relay thread)."""

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKET = re.compile(rb"[^\[\]{}]+")
_EMPTY_PAIR = re.compile(rb"\[\]|\{\}")
_TOO_DEEP = re.compile(rb"[\[{]{%d}" % (MAX_DEPTH + 1))


def nesting(payload: bytes) -> str:
    """``ok``, ``too_deep`` (an array/object deeper than :data:`MAX_DEPTH`) or ``not_json``.

    No recursion and no parse: strings are blanked, everything but brackets is dropped, then
    innermost empty pairs are removed at most MAX_DEPTH + 1 times (each pass is one C-level
    regex substitution). Brackets that do not pair up outside strings cannot be JSON.
    """
    s = _NOT_BRACKET.sub(b"", _STRING.sub(b"", payload))
    for _ in range(MAX_DEPTH + 1):
        if not s:
            return "ok"
        if _TOO_DEEP.search(s):
            return "too_deep"
        shorter = _EMPTY_PAIR.sub(b"", s)
        if shorter == s:
            return "not_json"
        s = shorter
    return "ok" if not s else "too_deep"


def precheck(name: str, payload: bytes, limit: int = MAX_MESSAGE_BYTES) -> None:
    """Refuse (``ProtocolError``) a payload over ``limit`` bytes, nested too deep or unpaired."""
    if len(payload) > limit:
        raise RejectedMessage("too_large", f"{name} message of {len(payload)} bytes is too large")
    verdict = nesting(payload)
    if verdict == "too_deep":
        raise RejectedMessage("too_deep", f"{name} message nests deeper than {MAX_DEPTH}")
    if verdict == "not_json":
        raise RejectedMessage("not_json", f"{name} message has brackets that do not pair up")


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
    precheck(name, payload)
    try:
        data = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise ProtocolError(f"{name} message is not UTF-8 JSON") from err
    check(name, data)
    return data


_UUID7 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
_ACK_KEYS = frozenset({"v", "kind", "device_id", "kid", "sig", "at", "acks"})
_ENTRY_REQUIRED = frozenset({"record_id", "result"})
_ENTRY_KEYS = _ENTRY_REQUIRED | {"reason"}
_DEVICE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{2,39}$")
MAX_ACKS = 1000
"""Most record acks in one signed ack message (the portal sends one per batch and device)."""


def is_record_id(value: Any) -> bool:
    """True for a record id as the protocol writes it (lower-case UUIDv7 text)."""
    return isinstance(value, str) and _UUID7.match(value) is not None and "\n" not in value


def _number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _entry_ok(e: Any) -> bool:
    return (
        isinstance(e, dict)
        and _ENTRY_REQUIRED <= e.keys() <= _ENTRY_KEYS
        and is_record_id(e["record_id"])
        and e["result"] in ("stored", "duplicate", "rejected")
        and (e.get("reason") is None or (isinstance(e["reason"], str) and len(e["reason"]) <= 500))
    )


def _ack_ok(d: Any) -> bool:
    """Hand-written equivalent of schemas/ack.json (the hot path: one ack per batch)."""
    return (
        isinstance(d, dict)
        and d.keys() == _ACK_KEYS
        and d["v"] == 1
        and not isinstance(d["v"], bool)
        and d["kind"] == Name.ACK
        and isinstance(d["device_id"], str)
        and _DEVICE_ID.match(d["device_id"]) is not None
        and "\n" not in d["device_id"]
        and isinstance(d["kid"], str)
        and 1 <= len(d["kid"]) <= 64
        and isinstance(d["sig"], str)
        and 1 <= len(d["sig"]) <= 200
        and _number(d["at"])
        and d["at"] >= 0
        and isinstance(d["acks"], list)
        and 1 <= len(d["acks"]) <= MAX_ACKS
        and all(_entry_ok(e) for e in d["acks"])
    )


def _count(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool) and x >= 0


_HB_REQUIRED = frozenset(
    {"v", "device_id", "clock", "queue_depth", "oldest_pending_age_s", "dead",
     "disk_free_bytes", "cpu_temp_c", "camera", "models", "software_version"}
)  # fmt: skip
_HB_KEYS = _HB_REQUIRED | {"inbound_refused"}
_CLOCK_KEYS = frozenset({"wall", "monotonic", "boot_id", "synced"})


def _heartbeat_ok(d: Any) -> bool:
    """Hand-written equivalent of schemas/heartbeat.json (the portal's other hot path: every
    kiosk every heartbeat_s)."""
    if not (isinstance(d, dict) and _HB_REQUIRED <= d.keys() <= _HB_KEYS):
        return False
    c, models, refused = d["clock"], d["models"], d.get("inbound_refused", {})
    age, temp = d["oldest_pending_age_s"], d["cpu_temp_c"]
    return (
        d["v"] == 1
        and type(d["v"]) is int
        and isinstance(d["device_id"], str)
        and isinstance(c, dict)
        and c.keys() == _CLOCK_KEYS
        and _number(c["wall"])
        and _number(c["monotonic"])
        and isinstance(c["boot_id"], str)
        and isinstance(c["synced"], bool)
        and _count(d["queue_depth"])
        and (age is None or (_number(age) and age >= 0))
        and _count(d["dead"])
        and _count(d["disk_free_bytes"])
        and (temp is None or _number(temp))
        and isinstance(d["camera"], str)
        and len(d["camera"]) <= 40
        and isinstance(models, dict)
        and all(isinstance(v, str) for v in models.values())
        and isinstance(d["software_version"], str)
        and isinstance(refused, dict)
        and len(refused) <= 32
        and all(isinstance(k, str) and len(k) <= 40 and _count(v) for k, v in refused.items())
    )


FAST_CHECKS: dict[str, Any] = {Name.ACK: _ack_ok, Name.HEARTBEAT: _heartbeat_ok}
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
