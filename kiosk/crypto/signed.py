"""Portal-signed JSON messages: canonical bytes, ``kid`` + ``sig`` fields, Ed25519.

One implementation for every signed portal->kiosk message (reference sets, revokes, verify
replies, household updates) and for the bytes the device signs in its envelopes.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from kiosk.crypto.keys import key_id
from kiosk.errors import ProtocolError


class RejectedMessage(ProtocolError):
    """A portal message was refused; ``reason`` is a short code safe to log."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def canonical(body: Mapping[str, Any]) -> bytes:
    """The bytes that are signed: sorted keys, no spaces, ASCII-only JSON."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def sign_message(body: Mapping[str, Any], key: Ed25519PrivateKey) -> bytes:
    """Add ``kid`` and ``sig`` to ``body`` and return the message bytes (portal side, demo)."""
    unsigned = {k: v for k, v in body.items() if k != "sig"}
    unsigned["kid"] = key_id(key.public_key())
    sig = base64.b64encode(key.sign(canonical(unsigned))).decode("ascii")
    return canonical({**unsigned, "sig": sig})


def verify_message(data: Mapping[str, Any], trusted: Iterable[Ed25519PublicKey]) -> None:
    """Check ``data["sig"]`` over the rest of ``data`` with the trusted key named by ``kid``.

    Raises :class:`RejectedMessage` with reason ``no_trusted_key``, ``unknown_key`` or
    ``bad_signature``.
    """
    keys = {key_id(k): k for k in trusted}
    if not keys:
        raise RejectedMessage("no_trusted_key", "no portal signing key is provisioned")
    key = keys.get(data.get("kid"))  # type: ignore[arg-type]
    if key is None:
        raise RejectedMessage("unknown_key", "signed by a key this kiosk does not trust")
    unsigned = {k: v for k, v in data.items() if k != "sig"}
    try:
        key.verify(base64.b64decode(data["sig"], validate=True), canonical(unsigned))
    except (InvalidSignature, binascii.Error, KeyError, TypeError) as err:
        raise RejectedMessage("bad_signature", "signature does not verify") from err
