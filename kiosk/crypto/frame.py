"""Signed frames: the uplink's MQTT payload for sealed kinds, many envelopes under ONE signature.

Records are sealed (encrypted to the portal, device-signed) when committed, before any batch
exists; the relay packs the due envelopes of one kind, byte for byte as stored, into a frame
and signs the frame with the same device key at publish time. The portal verifies one Ed25519
signature per frame instead of one per record: the frame signature covers every envelope's
bytes, so it authenticates each of them to the device exactly as the inner signature does
(which stays, for the USB path and as evidence). Wire format (docs/protocol.md, "Frames"):

    b"PKF2" | u16 header length | header (canonical JSON: device_id, kid, kind, n)
            | n x (u32 length | envelope bytes) | Ed25519 signature (64 bytes) over all before
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable, Sequence
from typing import NamedTuple

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from kiosk.crypto.keys import key_id
from kiosk.crypto.signed import canonical
from kiosk.errors import CryptoError

MAGIC = b"PKF2"
"""Frame marker and uplink format version 2 (version 1: one bare envelope per message)."""
MAX_RECORDS = 64
"""Most envelopes the relay puts in one frame."""
TARGET_BYTES = 512 * 1024
"""The relay closes a frame before its envelopes would pass this size (a single larger envelope
still travels alone), bytes: well inside common broker packet limits (EMQX's default is 1 MB)."""
MAX_FRAME_BYTES = 4 * 1024 * 1024 + 64 * 1024
"""Largest frame the portal will parse (one envelope of at most 4 MiB plus framing), bytes."""
_SIG = 64
_HEADER_MAX = 4096
_FIELDS = frozenset(("device_id", "kid", "kind", "n"))


class Frame(NamedTuple):
    """A frame whose signature was checked: who sent it, of what kind, and its envelopes."""

    device_id: str  # as the topic must name it
    kid: str  # the enrolled device key that signed it
    kind: str
    envelopes: tuple[bytes, ...]


def frame(
    envelopes: Sequence[bytes], *, kind: str, device_id: str, key: Ed25519PrivateKey
) -> bytes:
    """Pack ``envelopes`` (of ``kind``, from ``device_id``) into one frame signed by ``key``."""
    if not envelopes or len(envelopes) > MAX_RECORDS:
        raise CryptoError(f"a frame holds 1 to {MAX_RECORDS} envelopes, not {len(envelopes)}")
    header = canonical(
        {"device_id": device_id, "kid": key_id(key.public_key()), "kind": kind, "n": len(envelopes)}
    )
    parts = [MAGIC, struct.pack(">H", len(header)), header]
    for env in envelopes:
        parts += [struct.pack(">I", len(env)), env]
    body = b"".join(parts)
    return body + key.sign(body)


def is_frame(payload: bytes) -> bool:
    """True when ``payload`` starts as a version-2 frame (it may still be invalid)."""
    return payload[:4] == MAGIC


def _split(payload: bytes) -> tuple[dict[str, object], tuple[bytes, ...]]:
    """Header and envelopes of a frame, unverified; strict about every length."""
    if len(payload) > MAX_FRAME_BYTES:
        raise CryptoError(f"frame of {len(payload)} bytes is too large")
    if not is_frame(payload):
        raise CryptoError("not a version 2 frame (uplink format 1 is no longer accepted)")
    end = len(payload) - _SIG
    if end < 6:
        raise CryptoError("frame is truncated")
    (hlen,) = struct.unpack_from(">H", payload, 4)
    if hlen > _HEADER_MAX or 6 + hlen > end:
        raise CryptoError("frame header length is out of range")
    raw = payload[6 : 6 + hlen]
    try:
        header = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as err:
        raise CryptoError("frame header is not JSON") from err
    if not isinstance(header, dict) or set(header) != _FIELDS:
        raise CryptoError("frame header does not have exactly the expected fields")
    for name in ("device_id", "kid", "kind"):
        if not isinstance(header[name], str) or not header[name]:
            raise CryptoError(f"frame header field {name!r} must be a non-empty string")
    n = header["n"]
    if type(n) is not int or not 1 <= n <= MAX_RECORDS:
        raise CryptoError(f"frame must hold 1 to {MAX_RECORDS} envelopes")
    if canonical(header) != raw:
        raise CryptoError("frame header is not in canonical form")
    envelopes: list[bytes] = []
    pos = 6 + hlen
    for _ in range(n):
        if pos + 4 > end:
            raise CryptoError("frame is truncated")
        (size,) = struct.unpack_from(">I", payload, pos)
        pos += 4
        if size == 0 or pos + size > end:
            raise CryptoError("frame envelope length is out of range")
        envelopes.append(payload[pos : pos + size])
        pos += size
    if pos != end:
        raise CryptoError("frame has bytes after its last envelope")
    return header, tuple(envelopes)


def claimed(payload: bytes) -> tuple[bytes, ...]:
    """The envelopes a frame holds, NOT verified (to name the records of a refused frame)."""
    try:
        return _split(payload)[1]
    except CryptoError:
        return ()


def open_frame(payload: bytes, device_keys: Callable[[str], Ed25519PublicKey]) -> Frame:
    """Check a frame's shape and its device signature; ``device_keys`` maps device id to key
    (raising :class:`CryptoError` for an unknown device)."""
    header, envelopes = _split(payload)
    device_id, kid, kind = str(header["device_id"]), str(header["kid"]), str(header["kind"])
    key = device_keys(device_id)
    if key_id(key) != kid:
        raise CryptoError("frame was signed by a key not enrolled for this device")
    try:
        key.verify(payload[-_SIG:], payload[:-_SIG])
    except InvalidSignature as err:
        raise CryptoError("frame signature is invalid (tampered or wrong device key)") from err
    return Frame(device_id, kid, kind, envelopes)


class FrameSigner:
    """This device's frame signer (the relay's, and the sealed requests')."""

    def __init__(self, *, device_id: str, key: Ed25519PrivateKey) -> None:
        self._device_id = device_id
        self._key = key

    def __call__(self, kind: str, envelopes: Sequence[bytes]) -> bytes:
        """One signed frame of ``envelopes`` of ``kind``."""
        return frame(envelopes, kind=kind, device_id=self._device_id, key=self._key)
