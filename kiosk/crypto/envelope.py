"""Sealed envelopes: one record encrypted to the portal and signed by the device.

Each record gets a fresh AES-256-GCM content key. That key is wrapped with AES-256-GCM under a
key-encryption key derived by HKDF-SHA256 from an X25519 exchange between a fresh ephemeral key
and the portal's public key; the ephemeral private key and the content key are then forgotten,
so the kiosk cannot read back its own backlog and the broker never sees clear data. The whole
envelope is signed with the device's Ed25519 key. Wire format: UTF-8 JSON, see docs/protocol.md.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from kiosk.config import KioskConfig
from kiosk.crypto.keys import key_id, load_or_create_device_key, load_portal_public_key
from kiosk.crypto.signed import canonical
from kiosk.errors import CryptoError

ENVELOPE_VERSION = 1
ALGORITHM = "X25519-HKDF-SHA256+A256GCM/Ed25519"
_HKDF_INFO = b"perlinsos envelope v1 key wrap"
_HEADER_FIELDS = ("v", "alg", "kind", "record_id", "device_id", "kid", "epk")
_ALL_FIELDS = frozenset((*_HEADER_FIELDS, "wk", "nonce", "ct", "sig"))


@dataclass(frozen=True)
class OpenedEnvelope:
    """What the portal learns from a valid envelope."""

    kind: str
    record_id: str
    device_id: str
    record: dict[str, Any]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: object, field: str) -> bytes:
    if not isinstance(text, str):
        raise CryptoError(f"envelope field {field!r} is not a string")
    try:
        return binascii.a2b_base64(text.encode("ascii"), strict_mode=True)
    except (binascii.Error, UnicodeEncodeError) as err:
        raise CryptoError(f"envelope field {field!r} is not base64") from err


def _kek(shared: bytes, header: bytes) -> bytes:
    """Key-encryption key from the X25519 shared secret, bound to the envelope header."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=header, info=_HKDF_INFO).derive(shared)


def seal(
    record: dict[str, Any],
    *,
    kind: str,
    record_id: str,
    device_id: str,
    portal_public_key: X25519PublicKey,
    device_private_key: Ed25519PrivateKey,
) -> bytes:
    """Encrypt ``record`` (JSON-serialisable) to the portal and sign it; returns envelope bytes."""
    try:
        plaintext = json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode()
    except (TypeError, ValueError) as err:
        raise CryptoError(f"record {record_id} is not JSON-serialisable: {err}") from err
    ephemeral = X25519PrivateKey.generate()
    epk = ephemeral.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    header = {
        "v": ENVELOPE_VERSION,
        "alg": ALGORITHM,
        "kind": kind,
        "record_id": record_id,
        "device_id": device_id,
        "kid": key_id(device_private_key.public_key()),
        "epk": _b64(epk),
    }
    aad = canonical(header)
    kek = _kek(ephemeral.exchange(portal_public_key), aad)
    cek = AESGCM.generate_key(bit_length=256)
    wrap_nonce, nonce = os.urandom(12), os.urandom(12)
    body = dict(header)
    body["wk"] = _b64(wrap_nonce + AESGCM(kek).encrypt(wrap_nonce, cek, aad))
    body["nonce"] = _b64(nonce)
    body["ct"] = _b64(AESGCM(cek).encrypt(nonce, plaintext, aad))
    body["sig"] = _b64(device_private_key.sign(canonical(body)))
    return canonical(body)


MAX_ENVELOPE_BYTES = 4 * 1024 * 1024
"""Largest envelope the portal will parse, bytes."""


def peek(envelope: bytes) -> dict[str, Any]:
    """Parse an envelope without verifying it (to find the device key); checks its shape."""
    if len(envelope) > MAX_ENVELOPE_BYTES:
        raise CryptoError(f"envelope of {len(envelope)} bytes is too large")
    try:
        body = json.loads(envelope)
    except (ValueError, UnicodeDecodeError, RecursionError) as err:  # deep nesting: refused
        raise CryptoError("envelope is not JSON") from err
    if not isinstance(body, dict) or set(body) != _ALL_FIELDS:
        raise CryptoError("envelope does not have exactly the expected fields")
    if body["v"] != ENVELOPE_VERSION or body["alg"] != ALGORITHM:
        raise CryptoError(f"unsupported envelope version/algorithm {body['v']!r}/{body['alg']!r}")
    for name in ("kind", "record_id", "device_id", "kid"):
        if not isinstance(body[name], str) or not body[name]:
            raise CryptoError(f"envelope field {name!r} must be a non-empty string")
    return body


def _verify(key: Ed25519PublicKey, envelope: bytes, body: dict[str, Any]) -> None:
    """Check the device signature over the canonical JSON of every field but ``sig``.

    An envelope arrives in canonical form (``seal`` sends nothing else), so those bytes are the
    received ones with the ``"sig"`` member cut out: verified as they are, without serialising
    the body again. This is as strict as verifying ``canonical(body - sig)``: a valid signature
    means the cut bytes are exactly what the device signed, and a JSON member can only be
    inserted into them at a member boundary (a ``,"`` cannot occur inside a JSON string), so
    the parsed body is the signed one plus ``sig``. Anything else (an envelope re-serialised
    on the way) is verified over the canonical JSON, as before.
    """
    sig = _unb64(body["sig"], "sig")  # base64 only: the member below needs no JSON escaping
    received = envelope.replace(b',"sig":"' + body["sig"].encode("ascii") + b'"', b"", 1)
    try:
        key.verify(sig, received)
        return
    except InvalidSignature:
        pass
    signed = canonical({k: v for k, v in body.items() if k != "sig"})
    try:
        if signed == received:
            raise InvalidSignature
        key.verify(sig, signed)
    except InvalidSignature as err:
        raise CryptoError("envelope signature is invalid (tampered or wrong device key)") from err


def open_envelope(
    envelope: bytes,
    *,
    portal_private_key: X25519PrivateKey,
    device_public_key: Ed25519PublicKey | Callable[[str], Ed25519PublicKey],
) -> OpenedEnvelope:
    """Verify the device signature, unwrap the content key and decrypt (portal side).

    ``device_public_key`` is the device's key, or a function from device id to its key (raise
    :class:`CryptoError` for an unknown device).
    """
    body = peek(envelope)
    key = (
        device_public_key
        if isinstance(device_public_key, Ed25519PublicKey)
        else device_public_key(body["device_id"])
    )
    if key_id(key) != body["kid"]:
        raise CryptoError("envelope was signed by a key not enrolled for this device")
    _verify(key, envelope, body)
    return _decrypt(body, portal_private_key)


def open_framed(
    envelope: bytes, *, device_id: str, kid: str, portal_private_key: X25519PrivateKey
) -> OpenedEnvelope:
    """Decrypt an envelope taken from a verified frame (:mod:`kiosk.crypto.frame`) of
    ``device_id`` signed by key ``kid``.

    The frame's signature covers these exact bytes with the same enrolled device key, so it
    authenticates them as the inner signature would; that one is not verified again (it is
    what makes the per-record Ed25519 check, the portal's largest cost, once per frame).
    """
    body = peek(envelope)
    if body["device_id"] != device_id or body["kid"] != kid:
        raise CryptoError("envelope device or key does not match its frame")
    _unb64(body["sig"], "sig")  # still well-formed: the envelope is kept as evidence
    return _decrypt(body, portal_private_key)


def _decrypt(body: dict[str, Any], portal_private_key: X25519PrivateKey) -> OpenedEnvelope:
    """Unwrap the content key and decrypt an authenticated envelope body."""
    aad = canonical({k: body[k] for k in _HEADER_FIELDS})
    try:
        epk = X25519PublicKey.from_public_bytes(_unb64(body["epk"], "epk"))
    except ValueError as err:
        raise CryptoError("envelope ephemeral key is malformed") from err
    wrapped = _unb64(body["wk"], "wk")
    try:
        kek = _kek(portal_private_key.exchange(epk), aad)
        cek = AESGCM(kek).decrypt(wrapped[:12], wrapped[12:], aad)
        plaintext = AESGCM(cek).decrypt(
            _unb64(body["nonce"], "nonce"), _unb64(body["ct"], "ct"), aad
        )
    except (InvalidTag, ValueError) as err:
        raise CryptoError("envelope cannot be decrypted with this portal key") from err
    try:
        record = json.loads(plaintext)
    except ValueError as err:
        raise CryptoError("decrypted record is not JSON") from err
    if not isinstance(record, dict):
        raise CryptoError("decrypted record is not a JSON object")
    return OpenedEnvelope(body["kind"], body["record_id"], body["device_id"], record)


class EnvelopeSealer:
    """The registration service's :class:`kiosk.services.ports.Sealer`, bound to this device."""

    def __init__(
        self,
        *,
        device_id: str,
        portal_public_key: X25519PublicKey,
        device_private_key: Ed25519PrivateKey,
    ) -> None:
        self._device_id = device_id
        self._portal = portal_public_key
        self._device = device_private_key

    def seal(self, kind: str, record_id: str, record: dict[str, Any]) -> bytes:
        """Return the envelope bytes for ``record``."""
        return seal(
            record,
            kind=kind,
            record_id=record_id,
            device_id=self._device_id,
            portal_public_key=self._portal,
            device_private_key=self._device,
        )


def sealer_from_config(cfg: KioskConfig) -> EnvelopeSealer:
    """Build the device's sealer: its Ed25519 key (created if absent) and the portal's key."""
    if cfg.uplink.portal_public_key is None:
        raise CryptoError(
            "uplink.portal_public_key is not set: records cannot be sealed for the portal"
        )
    return EnvelopeSealer(
        device_id=cfg.device.id,
        portal_public_key=load_portal_public_key(cfg.uplink.portal_public_key),
        device_private_key=load_or_create_device_key(cfg.paths.data_dir),
    )
