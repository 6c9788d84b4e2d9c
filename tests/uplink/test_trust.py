"""Trusted portal signing keys: current and next during a change-over, picked up when changed."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.crypto.keys import public_pem
from kiosk.crypto.trust import TrustedKeys


def _raw(keys: list) -> set[bytes]:  # type: ignore[type-arg]
    return {k.public_bytes_raw() for k in keys}


def test_rotation_is_picked_up_without_a_restart(tmp_path: Path) -> None:
    now = [0.0]
    trusted = TrustedKeys([tmp_path], recheck_s=2.0, monotonic=lambda: now[0])
    assert trusted() == []
    old, new = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    (tmp_path / "portal_ed25519.pub.pem").write_bytes(public_pem(old))
    assert trusted() == []  # not looked at again within recheck_s (hot path: one call per ack)
    now[0] = 2.0
    assert _raw(trusted()) == {old.public_key().public_bytes_raw()}
    (tmp_path / "portal_ed25519.next.pub.pem").write_bytes(public_pem(new))
    (tmp_path / "unrelated.pem").write_bytes(public_pem(Ed25519PrivateKey.generate()))
    now[0] = 4.0
    both = {old.public_key().public_bytes_raw(), new.public_key().public_bytes_raw()}
    assert _raw(trusted()) == both
    (tmp_path / "portal_ed25519.pub.pem").unlink()
    (tmp_path / "portal_ed25519.next.pub.pem").rename(tmp_path / "portal_ed25519.pub.pem")
    now[0] = 6.0
    assert _raw(trusted()) == {new.public_key().public_bytes_raw()}


def test_an_unreadable_key_file_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "portal_ed25519.pub.pem").write_text("not a key")
    good = Ed25519PrivateKey.generate()
    (tmp_path / "portal_ed25519.next.pub.pem").write_bytes(public_pem(good))
    assert _raw(TrustedKeys([tmp_path])()) == {good.public_key().public_bytes_raw()}
