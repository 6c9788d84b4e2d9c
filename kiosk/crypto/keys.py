"""Device signing key (Ed25519, made on the device) and the portal's public key (X25519).

Choice of algorithms (see docs/protocol.md): records are wrapped to the portal with X25519
ECDH + HKDF-SHA256 (small keys, constant-time, no padding pitfalls as with RSA) and signed with
Ed25519. The device key never leaves ``<data_dir>/keys/device_ed25519.pem`` (mode 0600); its
public half is enrolled at the portal when the kiosk is provisioned.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from kiosk.errors import CryptoError
from kiosk.store.files import replace_file

DEVICE_KEY_NAME = "device_ed25519.pem"


def device_key_path(data_dir: Path) -> Path:
    """Where the device signing key lives under ``data_dir``."""
    return data_dir / "keys" / DEVICE_KEY_NAME


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` atomically with mode 0600 (fsynced)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    replace_file(path, data, tmp=path.with_suffix(".tmp"), mode=0o600)


def load_or_create_device_key(data_dir: Path) -> Ed25519PrivateKey:
    """Load the device's Ed25519 key, generating it (0600, atomically) on first use."""
    path = device_key_path(data_dir)
    try:
        pem = path.read_bytes()
    except FileNotFoundError:
        key = Ed25519PrivateKey.generate()
        _write_private(
            path,
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        )
        return key
    key_obj = _load_private_pem(pem, str(path))
    if not isinstance(key_obj, Ed25519PrivateKey):
        raise CryptoError(f"device key {path} is not an Ed25519 private key")
    return key_obj


def _load_private_pem(pem: bytes, where: str) -> object:
    try:
        return serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as err:
        raise CryptoError(f"{where} is not a readable PEM private key: {err}") from err


def _load_public_pem(pem: bytes, where: str) -> object:
    try:
        return serialization.load_pem_public_key(pem)
    except (ValueError, TypeError) as err:
        raise CryptoError(f"{where} is not a readable PEM public key: {err}") from err


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as err:
        raise CryptoError(f"cannot read {what} {path}: {err.strerror}") from err


_KIND_NAMES: dict[type, str] = {
    Ed25519PrivateKey: "Ed25519 private",
    Ed25519PublicKey: "Ed25519",
    X25519PrivateKey: "X25519 private",
    X25519PublicKey: "X25519",
}


def load_pem_key(path: Path, what: str, kind: type) -> Any:
    """The ``kind`` key (one of the four key classes) in the PEM file ``path``; a
    :class:`CryptoError` naming ``what`` if the file cannot be read, is no PEM key, or holds
    another kind of key. (Typed by its callers: mypy takes no abstract key class as a type.)"""
    pem = _read(path, what)
    private = kind in (Ed25519PrivateKey, X25519PrivateKey)
    key = _load_private_pem(pem, str(path)) if private else _load_public_pem(pem, str(path))
    if not isinstance(key, kind):
        raise CryptoError(f"{what} {path} is not an {_KIND_NAMES[kind]} key")
    return key


def load_portal_public_key(path: Path) -> X25519PublicKey:
    """Load the portal's X25519 public key (PEM) that records are sealed to."""
    return load_pem_key(path, "portal public key", X25519PublicKey)


def load_portal_private_key(path: Path) -> X25519PrivateKey:
    """Load the portal's X25519 private key (PEM); portal side only."""
    return load_pem_key(path, "portal private key", X25519PrivateKey)


def load_signing_private_key(path: Path) -> Ed25519PrivateKey:
    """The portal's Ed25519 reply-signing private key (portal side)."""
    return load_pem_key(path, "portal signing key", Ed25519PrivateKey)


def load_device_public_key(path: Path) -> Ed25519PublicKey:
    """Load an enrolled device's Ed25519 public key (PEM); portal side."""
    return load_pem_key(path, "device public key", Ed25519PublicKey)


def public_pem(key: Ed25519PrivateKey | X25519PrivateKey) -> bytes:
    """The PEM (SubjectPublicKeyInfo) of a private key's public half."""
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def private_pem(key: Ed25519PrivateKey | X25519PrivateKey) -> bytes:
    """Unencrypted PKCS#8 PEM of a private key (for test/demo key generation)."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def key_id(public_key: Ed25519PublicKey | X25519PublicKey) -> str:
    """Short fingerprint of a public key: base64url of the first 12 bytes of SHA-256(raw)."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.urlsafe_b64encode(hashlib.sha256(raw).digest()[:12]).decode()


def write_private_key(path: Path, key: Ed25519PrivateKey | X25519PrivateKey) -> None:
    """Store a private key as PEM, mode 0600."""
    _write_private(path, private_pem(key))


def generate_portal_key() -> X25519PrivateKey:
    """A fresh X25519 key pair for a (test or demo) portal."""
    return X25519PrivateKey.generate()
