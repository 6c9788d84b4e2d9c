"""At-rest encryption of personal data (face templates, reference sets) with a device key.

The key is 32 random bytes in ``<data_dir>/keys/data.key`` (mode 0600), generated on first use.
Destroying that file crypto-shreds everything sealed with it (factory reset).
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from kiosk.core.ids import keyed_hash
from kiosk.errors import CryptoError
from kiosk.store.files import replace_file

__all__ = ["AtRestCipher", "keyed_hash", "load_or_create_key"]

_NONCE = 12
_VERSION = b"\x01"


def load_or_create_key(path: Path) -> bytes:
    """Read the 32-byte data key at ``path``, creating it atomically (0600) if absent."""
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = AESGCM.generate_key(bit_length=256)
        replace_file(path, key, tmp=path.with_suffix(".tmp"), mode=0o600)
        return key
    if len(key) != 32:
        raise CryptoError(f"data key {path} is {len(key)} bytes, expected 32: the key is corrupt")
    return key


class AtRestCipher:
    """AES-256-GCM sealing bound to a purpose string (associated data)."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise CryptoError("at-rest key must be 32 bytes")
        self._aead = AESGCM(key)

    def seal(self, plaintext: bytes, purpose: str) -> bytes:
        """Encrypt ``plaintext``; ``purpose`` (e.g. 'template:<id>') must match on open."""
        nonce = os.urandom(_NONCE)
        return _VERSION + nonce + self._aead.encrypt(nonce, plaintext, purpose.encode())

    def open(self, sealed: bytes, purpose: str) -> bytes:
        """Decrypt what :meth:`seal` produced for the same ``purpose``."""
        if len(sealed) < 1 + _NONCE + 16 or sealed[:1] != _VERSION:
            raise CryptoError("sealed data is truncated or of an unknown version")
        nonce = sealed[1 : 1 + _NONCE]
        try:
            return self._aead.decrypt(nonce, sealed[1 + _NONCE :], purpose.encode())
        except InvalidTag as err:
            raise CryptoError("sealed data failed authentication (wrong key or tampered)") from err
