"""The reference portal's store, clock correction and device-key lookup."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.crypto.keys import public_pem
from kiosk.errors import CryptoError
from portal.devkeys import main as devkeys_main
from portal.receiver import device_keys_from_dir
from portal.store import Incoming, PortalStore, correct_time

RID = "01930000-0000-7000-8000-000000000001"


def test_each_record_stored_once(tmp_path: Path) -> None:
    store = PortalStore(tmp_path / "p.sqlite3")
    a = Incoming("kiosk-a", RID, "registration", {"x": 1})
    assert store.put_many([a], now=10) == [True]
    assert store.put_many([a, Incoming("kiosk-b", RID, "registration", {})], now=11) == [
        False,
        True,
    ]
    assert store.record_ids("kiosk-a") == [RID] and len(store.record_ids()) == 2
    assert store.get("kiosk-a", RID) == {"x": 1}


def test_rejections_heartbeats_availability(tmp_path: Path) -> None:
    store = PortalStore(tmp_path / "p.sqlite3")
    store.reject("kiosk-a", None, "bad signature", 1)
    store.heartbeat("kiosk-a", {"clock": {}}, 2)
    store.availability("kiosk-a", "online", 3)
    assert store.rejections() == [("kiosk-a", None, "bad signature")]
    assert store.latest_heartbeat("kiosk-a") == {"clock": {}}
    assert store.availability_of("kiosk-a") == "online" and store.availability_of("x") is None


def test_clock_correction_uses_monotonic_within_one_boot() -> None:
    beat = {"clock": {"wall": 0.0, "monotonic": 5000.0, "boot_id": "b1", "synced": False}}
    rec = {"wall": 100.0, "monotonic": 4000.0, "boot_id": "b1", "synced": False}
    assert correct_time(rec, beat, beat_at=1_800_000_000.0) == 1_800_000_000.0 - 1000.0
    assert correct_time({**rec, "synced": True}, beat, 1_800_000_000.0) == 100.0
    assert correct_time({**rec, "boot_id": "b0"}, beat, 1_800_000_000.0) == 100.0
    assert correct_time(rec, None, 0.0) == 100.0


def test_corrected_time_stored_with_the_record(tmp_path: Path) -> None:
    store = PortalStore(tmp_path / "p.sqlite3")
    store.heartbeat("k", {"clock": {"monotonic": 50.0, "boot_id": "b"}}, now=1000.0)
    clock = {"wall": 3.0, "monotonic": 40.0, "boot_id": "b", "synced": False}
    store.put_many([Incoming("k", RID, "registration", {"clock": clock})], now=1001.0)
    row = store._conn.execute("SELECT created_at FROM record").fetchone()
    assert row[0] == pytest.approx(990.0)


def test_device_key_lookup(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    (tmp_path / "kiosk-a.pem").write_bytes(public_pem(key))
    lookup = device_keys_from_dir(tmp_path)
    assert public_pem_of(lookup("kiosk-a")) == public_pem(key)
    with pytest.raises(CryptoError, match="not enrolled"):
        lookup("kiosk-b")
    with pytest.raises(CryptoError, match="bad device id"):
        lookup("../etc")


def public_pem_of(pub: object) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return pub.public_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def test_devkeys_cli_writes_everything(tmp_path: Path) -> None:
    assert devkeys_main([str(tmp_path), "--device", "kiosk-a"]) == 0
    for name in ["ca.pem", "broker.crt", "portal.key", "kiosk-a.crt", "portal_x25519.pub.pem"]:
        assert (tmp_path / name).is_file()
    assert (tmp_path / "portal_x25519.pem").stat().st_mode & 0o077 == 0
