"""Signed portal messages about references: the village set, its revocation, verify replies.

Every message is UTF-8 JSON validated against its schema in ``kiosk/uplink/schemas`` and signed
by the portal's Ed25519 key: ``sig`` is the base64 signature of the canonical JSON (sorted keys,
no spaces, ASCII) of the whole message without ``sig``; ``kid`` names the signing key
(:func:`kiosk.crypto.keys.key_id`). Times are integer wall seconds so that every implementation
produces the same canonical bytes. A refused message raises :class:`RejectedMessage` whose
``reason`` is a short code for the log; no message text ever contains a NIK.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from kiosk.crypto.signed import RejectedMessage, verify_message
from kiosk.crypto.trust import load_signing_public_key as load_signing_public_key  # re-export
from kiosk.crypto.trust import load_trusted
from kiosk.errors import ProtocolError
from kiosk.uplink import messages
from kiosk.uplink.topics import Name

MAX_SET_BYTES = 16 * 1024 * 1024
"""Largest reference-set message accepted, bytes (about 20,000 residents)."""

MAX_SMALL_BYTES = 16 * 1024
"""Largest revoke or verify-reply message accepted, bytes."""

TEMPLATE_MAGIC = b"KFT1"
TEMPLATE_BYTES = 4 + 4 * 128
"""A face template: magic + 128 little-endian float32 (see kiosk.vision.embedder)."""

PORTAL_SIGNING_KEY = "portal_ed25519.pub.pem"
"""File name, under ``<data_dir>/keys``, of the portal's Ed25519 public key (provisioned)."""


@dataclass(frozen=True)
class ReferenceEntry:
    """One resident's reference: NIK, household card number, initials, template bytes."""

    nik: str
    kk: str
    initials: str
    template: bytes = b""

    def __repr__(self) -> str:  # never print personal data
        return "ReferenceEntry(<redacted>)"


@dataclass(frozen=True)
class ReferenceSet:
    """A validated village reference set."""

    village_code: str
    version: int
    issued_at: float
    expires_at: float
    kid: str
    entries: tuple[ReferenceEntry, ...]


@dataclass(frozen=True)
class Revocation:
    """A validated order to purge every set of ``village_code`` up to ``version``."""

    village_code: str
    version: int
    issued_at: float
    reason: str
    kid: str


@dataclass(frozen=True)
class VerifyReply:
    """A validated portal answer to one online verification request."""

    request_id: str
    device_id: str
    result: str  # matched | no_reference | refused
    match: str | None  # HIGH / MEDIUM / LOW / NONE when result == matched
    issued_at: float


# --- keys -----------------------------------------------------------------------------------


def portal_signing_key_path(data_dir: Path) -> Path:
    """Where the provisioned portal signing key (Ed25519 public, PEM) lives."""
    return data_dir / "keys" / PORTAL_SIGNING_KEY


def load_trusted_keys(data_dir: Path) -> list[Ed25519PublicKey]:
    """The portal signing keys this kiosk trusts (empty when none is provisioned); during a
    key change-over both ``portal_ed25519.pub.pem`` and ``portal_ed25519.next.pub.pem``."""
    return load_trusted([portal_signing_key_path(data_dir).parent])


# --- signing (portal side, demo) --------------------------------------------------------------


def encode_template(template: bytes) -> str:
    """Base64 text of a template for a message."""
    check_template(template)
    return base64.b64encode(template).decode("ascii")


def check_template(template: bytes) -> None:
    """Raise ValueError unless ``template`` is a KFT1 template of 128 finite floats."""
    if len(template) != TEMPLATE_BYTES or template[:4] != TEMPLATE_MAGIC:
        raise ValueError("not a KFT1 face template (wrong length or magic)")
    values = np.frombuffer(template, dtype="<f4", offset=4)
    if not bool(np.isfinite(values).all()):
        raise ValueError("face template contains non-finite values")
    if float(np.dot(values, values)) < 1e-6:
        raise ValueError("face template is all zeros")


# --- validation -------------------------------------------------------------------------------


def _load(payload: bytes, schema: str, limit: int, bulk: str | None = None) -> dict[str, Any]:
    """Size, JSON and schema checks. ``bulk`` names a long array whose first item goes through
    jsonschema and the rest through :func:`_check_items` (same rules, about 20x faster)."""
    messages.precheck(schema, payload, limit)  # too_large / too_deep, before any parse
    try:
        data = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise RejectedMessage("not_json") from err
    head = data
    items = data.get(bulk) if bulk and isinstance(data, dict) else None
    if isinstance(items, list) and len(items) > 1:
        head = {**data, bulk: items[:1]}
    try:
        messages.check(schema, head)
    except ProtocolError as err:
        reason = "bad_version" if "unsupported version" in str(err) else "schema"
        raise RejectedMessage(reason, str(err)) from err
    if head is not data:
        assert isinstance(items, list)
        _check_items(items)
    return data


_DIGITS16 = re.compile(r"[0-9]{16}")
_TEMPLATE_B64 = re.compile(r"[A-Za-z0-9+/]{688}")
_ENTRY_KEYS = frozenset({"nik", "kk", "initials", "template"})
MAX_ENTRIES = 20000
"""Largest reference set, residents (also ``maxItems`` in references.json)."""


def _check_items(items: list[Any]) -> None:
    """The item rules of references.json, applied in plain Python to a long list."""
    if len(items) > MAX_ENTRIES:
        raise RejectedMessage("schema", f"more than {MAX_ENTRIES} references")
    for i, item in enumerate(items):
        ok = (
            isinstance(item, dict)
            and item.keys() == _ENTRY_KEYS
            and isinstance(item["nik"], str)
            and _DIGITS16.fullmatch(item["nik"]) is not None
            and isinstance(item["kk"], str)
            and _DIGITS16.fullmatch(item["kk"]) is not None
            and isinstance(item["initials"], str)
            and 1 <= len(item["initials"]) <= 12
            and isinstance(item["template"], str)
            and _TEMPLATE_B64.fullmatch(item["template"]) is not None
        )
        if not ok:
            raise RejectedMessage("schema", f"references/{i}: entry does not follow the schema")


def _trusted(trusted: Ed25519PublicKey | Iterable[Ed25519PublicKey]) -> list[Ed25519PublicKey]:
    return [trusted] if isinstance(trusted, Ed25519PublicKey) else list(trusted)


def parse_reference_set(
    payload: bytes,
    *,
    trusted: Ed25519PublicKey | Iterable[Ed25519PublicKey],
    village_code: str,
    now: float,
) -> ReferenceSet:
    """Validate a reference-set message (size, JSON, schema, signature, village, times)."""
    data = _load(payload, Name.REFERENCES, MAX_SET_BYTES, bulk=Name.REFERENCES)
    verify_message(data, _trusted(trusted))
    if data["village_code"] != village_code:
        raise RejectedMessage("wrong_village", "the set is for another village")
    if data["expires_at"] <= data["issued_at"]:
        raise RejectedMessage("bad_expiry", "expires_at is not after issued_at")
    if data["expires_at"] <= now:
        raise RejectedMessage("expired", "the set has already expired")
    entries: list[ReferenceEntry] = []
    seen: set[str] = set()
    for i, ref in enumerate(data["references"]):
        if ref["nik"] in seen:
            raise RejectedMessage("duplicate_nik", f"entry {i + 1} repeats an earlier NIK")
        seen.add(ref["nik"])
        template = base64.b64decode(ref["template"])
        try:
            check_template(template)
        except ValueError as err:
            raise RejectedMessage("bad_template", f"entry {i + 1}: {err}") from err
        entries.append(ReferenceEntry(ref["nik"], ref["kk"], ref["initials"], template))
    return ReferenceSet(
        data["village_code"],
        int(data["set_version"]),
        float(data["issued_at"]),
        float(data["expires_at"]),
        data["kid"],
        tuple(entries),
    )


def parse_revocation(
    payload: bytes,
    *,
    trusted: Ed25519PublicKey | Iterable[Ed25519PublicKey],
    village_code: str,
) -> Revocation:
    """Validate a revoke message (schema, signature, village)."""
    data = _load(payload, Name.REFERENCES_REVOKE, MAX_SMALL_BYTES)
    verify_message(data, _trusted(trusted))
    if data["village_code"] != village_code:
        raise RejectedMessage("wrong_village", "the revocation is for another village")
    return Revocation(
        data["village_code"],
        int(data["set_version"]),
        float(data["issued_at"]),
        data["reason"],
        data["kid"],
    )


def parse_verify_reply(
    payload: bytes,
    *,
    trusted: Ed25519PublicKey | Iterable[Ed25519PublicKey],
    device_id: str,
) -> VerifyReply:
    """Validate a verify reply (schema, signature, addressed to this device, consistent)."""
    data = _load(payload, Name.VERIFY_REPLY, MAX_SMALL_BYTES)
    verify_message(data, _trusted(trusted))
    if data["device_id"] != device_id:
        raise RejectedMessage("wrong_device", "the reply is for another kiosk")
    if (data["result"] == "matched") != (data["match"] is not None):
        raise RejectedMessage("inconsistent", "a match band comes with result 'matched' only")
    return VerifyReply(
        data["request_id"],
        data["device_id"],
        data["result"],
        data["match"],
        float(data["issued_at"]),
    )


def reference_set_body(
    *,
    village_code: str,
    version: int,
    issued_at: int,
    expires_at: int,
    entries: Iterable[ReferenceEntry],
) -> dict[str, Any]:
    """The unsigned body of a reference-set message (portal and demo build it with this)."""
    return {
        "v": 1,
        "kind": "reference_set",
        "village_code": village_code,
        "set_version": version,
        "issued_at": int(issued_at),
        "expires_at": int(expires_at),
        "references": [
            {
                "nik": e.nik,
                "kk": e.kk,
                "initials": e.initials,
                "template": encode_template(e.template),
            }
            for e in entries
        ],
    }


def revocation_body(
    *, village_code: str, version: int, issued_at: int, reason: str
) -> dict[str, Any]:
    """The unsigned body of a revoke message."""
    return {
        "v": 1,
        "kind": "reference_revoke",
        "village_code": village_code,
        "set_version": version,
        "issued_at": int(issued_at),
        "reason": reason,
    }
