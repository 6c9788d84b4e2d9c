"""One PEM key loader: the right kind of key, or an error that names the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from kiosk.crypto.keys import (
    load_device_public_key,
    load_pem_key,
    load_portal_private_key,
    load_portal_public_key,
    load_signing_private_key,
    private_pem,
    public_pem,
)
from kiosk.crypto.trust import load_signing_public_key
from kiosk.errors import CryptoError


def test_each_loader_returns_its_kind(tmp_path: Path) -> None:
    ed, x = Ed25519PrivateKey.generate(), X25519PrivateKey.generate()
    files = {
        "ed.pem": private_pem(ed),
        "ed.pub.pem": public_pem(ed),
        "x.pem": private_pem(x),
        "x.pub.pem": public_pem(x),
    }
    for name, pem in files.items():
        (tmp_path / name).write_bytes(pem)
    assert isinstance(load_signing_private_key(tmp_path / "ed.pem"), Ed25519PrivateKey)
    assert isinstance(load_device_public_key(tmp_path / "ed.pub.pem"), Ed25519PublicKey)
    assert isinstance(load_signing_public_key(tmp_path / "ed.pub.pem"), Ed25519PublicKey)
    assert isinstance(load_portal_private_key(tmp_path / "x.pem"), X25519PrivateKey)
    assert isinstance(load_portal_public_key(tmp_path / "x.pub.pem"), X25519PublicKey)


def test_another_kind_of_key_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "portal.pub.pem"
    path.write_bytes(public_pem(Ed25519PrivateKey.generate()))  # Ed25519 where X25519 belongs
    with pytest.raises(CryptoError, match=r"portal public key .* is not an X25519 key"):
        load_portal_public_key(path)
    with pytest.raises(CryptoError, match="not a readable PEM private key"):
        load_pem_key(path, "device key", Ed25519PrivateKey)  # a public key is no private key


def test_missing_and_garbled_files_are_crypto_errors(tmp_path: Path) -> None:
    with pytest.raises(CryptoError, match="cannot read portal signing key"):
        load_signing_private_key(tmp_path / "absent.pem")
    (tmp_path / "garbled.pem").write_text("not a key")
    with pytest.raises(CryptoError, match="not a readable PEM public key"):
        load_device_public_key(tmp_path / "garbled.pem")
