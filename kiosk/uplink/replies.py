"""Signed portal replies (ack, status, config, roster): the portal signs, the kiosk verifies.

The signed body names its own ``kind`` (the topic) and ``device_id``, so a genuine reply can be
neither replayed on another topic nor to another kiosk; an ack also names the record id inside
the signature. Everything correctness needs is in this body, none of it in MQTT 5 properties,
so a 3.1.1 broker loses only optimisations (see docs/protocol.md).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from kiosk.crypto.keys import key_id
from kiosk.crypto.signed import RejectedMessage, canonical, verify_message
from kiosk.errors import ProtocolError
from kiosk.uplink import messages
from kiosk.uplink.topics import SIGNED_REPLIES, Name

Trusted = Callable[[], Iterable[Ed25519PublicKey]]

_KIDS: dict[int, tuple[Ed25519PrivateKey, str]] = {}


def _kid(key: Ed25519PrivateKey) -> str:
    hit = _KIDS.get(id(key))
    if hit is None or hit[0] is not key:
        hit = (key, key_id(key.public_key()))
        _KIDS[id(key)] = hit
    return hit[1]


def sign_reply(name: str, device_id: str, body: Mapping[str, Any], key: Ed25519PrivateKey) -> bytes:
    """Portal side: ``body`` + kind + device_id + kid, signed, validated, canonical bytes."""
    if name not in SIGNED_REPLIES:
        raise ValueError(f"{name!r} is not a signed reply topic")
    data = {k: v for k, v in body.items() if k not in ("sig", "kid", "kind", "device_id")}
    data.update(kind=name, device_id=device_id, kid=_kid(key))
    data["sig"] = base64.b64encode(key.sign(canonical(data))).decode("ascii")
    messages.check(name, data)
    return canonical(data)


ACKS_PER_MESSAGE = 200
"""Record acks per signed ack message: 200 with 500-character reasons stay under 256 KiB."""


def ack_messages(
    device_id: str, entries: list[dict[str, Any]], key: Ed25519PrivateKey, at: float
) -> list[bytes]:
    """Portal side: signed ack messages for ``entries`` ({record_id, result[, reason]}) of one
    kiosk, ACKS_PER_MESSAGE per message; entries without a valid record id are left out."""
    good = []
    for e in entries:
        if not messages.is_record_id(e.get("record_id")):
            continue  # nothing the kiosk could match
        entry = {"record_id": e["record_id"], "result": e["result"]}
        if e.get("reason") is not None:
            entry["reason"] = str(e["reason"])[:500]
        good.append(entry)
    return [
        sign_reply(
            Name.ACK, device_id, {"v": 1, "at": at, "acks": good[i : i + ACKS_PER_MESSAGE]}, key
        )
        for i in range(0, len(good), ACKS_PER_MESSAGE)
    ]


def status_message(
    device_id: str,
    record_id: str,
    status: str,
    reason: str | None,
    at: float,
    key: Ed25519PrivateKey,
) -> bytes:
    """Portal side: the signed ``status`` message telling a kiosk the decision taken at ``at``
    on one of its records (the reference receiver sends it at once, the PostgreSQL workers
    through portal/status_push.py); ProtocolError for one the schema refuses."""
    body = {"v": 1, "record_id": record_id, "status": status, "reason": reason, "at": at}
    return sign_reply(Name.STATUS, device_id, body, key)


def open_reply(name: str, device_id: str, payload: bytes, trusted: Trusted) -> dict[str, Any]:
    """Kiosk side: bounded, signed by a trusted key, valid, for this topic and this device.

    Raises :class:`RejectedMessage` whose ``reason`` is one of ``too_large``, ``too_deep``,
    ``not_json``, ``unsigned``, ``no_trusted_key``, ``unknown_key``, ``bad_signature``,
    ``schema``, ``wrong_kind``, ``wrong_device``.
    """
    messages.precheck(name, payload)
    try:
        data = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise RejectedMessage("not_json", f"{name} message is not UTF-8 JSON") from err
    if not isinstance(data, dict) or "sig" not in data or "kid" not in data:
        raise RejectedMessage("unsigned", f"{name} message carries no portal signature")
    verify_message(data, trusted())
    try:
        messages.check(name, data)
    except ProtocolError as err:
        raise RejectedMessage("schema", str(err)) from err
    if data["kind"] != name:
        raise RejectedMessage("wrong_kind", f"a {data['kind']!r} reply sent on {name!r}")
    if data["device_id"] != device_id:
        raise RejectedMessage("wrong_device", "signed for another kiosk")
    return data
