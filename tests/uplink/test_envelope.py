"""Envelopes: only the portal can open them, tampering and wrong keys are refused."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from kiosk.config import parse_config
from kiosk.crypto import envelope as env
from kiosk.crypto import keys
from kiosk.crypto.signed import canonical
from kiosk.errors import CryptoError

RID = "01930000-0000-7000-8000-000000000001"


@pytest.fixture
def portal_key() -> X25519PrivateKey:
    return keys.generate_portal_key()


@pytest.fixture
def device_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def _seal(portal_key: X25519PrivateKey, device_key: Ed25519PrivateKey, **record: object) -> bytes:
    return env.seal(
        dict(record) or {"nik": "3510010101900001", "answers": {"a": 1}},
        kind="registration",
        record_id=RID,
        device_id="kiosk-01",
        portal_public_key=portal_key.public_key(),
        device_private_key=device_key,
    )


def test_round_trip(portal_key: X25519PrivateKey, device_key: Ed25519PrivateKey) -> None:
    sealed = _seal(portal_key, device_key, nik="3510010101900001", name="Siti")
    opened = env.open_envelope(
        sealed, portal_private_key=portal_key, device_public_key=device_key.public_key()
    )
    assert opened.record == {"nik": "3510010101900001", "name": "Siti"}
    assert (opened.kind, opened.record_id, opened.device_id) == ("registration", RID, "kiosk-01")


def test_ciphertext_hides_the_record(
    portal_key: X25519PrivateKey, device_key: Ed25519PrivateKey
) -> None:
    sealed = _seal(portal_key, device_key, nik="3510010101900001")
    assert b"3510010101900001" not in sealed
    assert _seal(portal_key, device_key, nik="3510010101900001") != sealed  # fresh keys


def test_other_portal_key_cannot_open(
    portal_key: X25519PrivateKey, device_key: Ed25519PrivateKey
) -> None:
    sealed = _seal(portal_key, device_key)
    with pytest.raises(CryptoError, match="cannot be decrypted"):
        env.open_envelope(
            sealed,
            portal_private_key=keys.generate_portal_key(),
            device_public_key=device_key.public_key(),
        )


def test_tampered_field_fails_signature(
    portal_key: X25519PrivateKey, device_key: Ed25519PrivateKey
) -> None:
    body = json.loads(_seal(portal_key, device_key))
    body["record_id"] = "01930000-0000-7000-8000-000000000002"
    with pytest.raises(CryptoError, match="signature"):
        env.open_envelope(
            json.dumps(body).encode(),
            portal_private_key=portal_key,
            device_public_key=device_key.public_key(),
        )


def test_wrong_device_key_refused(
    portal_key: X25519PrivateKey, device_key: Ed25519PrivateKey
) -> None:
    sealed = _seal(portal_key, device_key)
    with pytest.raises(CryptoError, match="not enrolled"):
        env.open_envelope(
            sealed,
            portal_private_key=portal_key,
            device_public_key=Ed25519PrivateKey.generate().public_key(),
        )


def test_resigned_forgery_with_same_kid_rejected(
    portal_key: X25519PrivateKey, device_key: Ed25519PrivateKey
) -> None:
    body = json.loads(_seal(portal_key, device_key))
    body["sig"] = "AAAA"
    with pytest.raises(CryptoError, match="signature"):
        env.open_envelope(
            json.dumps(body).encode(),
            portal_private_key=portal_key,
            device_public_key=lambda _d: device_key.public_key(),
        )


def _open(sealed: bytes, portal_key: X25519PrivateKey, device_key: Ed25519PrivateKey) -> object:
    return env.open_envelope(
        sealed, portal_private_key=portal_key, device_public_key=device_key.public_key()
    )


def test_the_signature_is_checked_over_the_received_bytes_or_the_canonical_form(
    portal_key: X25519PrivateKey, device_key: Ed25519PrivateKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    sealed = _seal(portal_key, device_key)
    dumps = []
    monkeypatch.setattr(env, "canonical", lambda b: dumps.append(b) or canonical(b))
    _open(sealed, portal_key, device_key)
    assert len(dumps) == 1  # the header (the AEAD's associated data) only: no re-serialising
    body = json.loads(sealed)
    spaced = json.dumps(body, indent=1).encode()  # re-serialised on the way: still genuine
    sig_last = json.dumps({**{k: v for k, v in body.items() if k != "sig"}, "sig": body["sig"]})
    for copy in (spaced, sig_last.replace(" ", "").encode()):
        assert _open(copy, portal_key, device_key).record_id == RID  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "forge",
    [
        lambda s: s.replace(b'"kind":"registration"', b'"kind":"audit"'),
        lambda s: s.replace(b',"sig":"', b',"sig":"A', 1),
        lambda s: s.replace(b',"v":1', b',"v":1,"sig":"AAAA"', 1),  # a second, later sig
        lambda s: s.replace(b'"record_id":"', b'"record_id":"\\",\\"sig\\":\\"', 1),
    ],
)
def test_tampering_around_the_sig_member_is_refused(
    forge: object, portal_key: X25519PrivateKey, device_key: Ed25519PrivateKey
) -> None:
    forged = forge(_seal(portal_key, device_key))  # type: ignore[operator]
    with pytest.raises(CryptoError):
        _open(forged, portal_key, device_key)


@pytest.mark.parametrize(
    "bad",
    [b"not json", b"[]", b'{"v":1}', json.dumps({k: "x" for k in env._ALL_FIELDS}).encode()],
)
def test_malformed_envelopes(bad: bytes, portal_key: X25519PrivateKey) -> None:
    with pytest.raises(CryptoError):
        env.open_envelope(
            bad,
            portal_private_key=portal_key,
            device_public_key=Ed25519PrivateKey.generate().public_key(),
        )


def test_unserialisable_record(portal_key: X25519PrivateKey, device_key: Ed25519PrivateKey) -> None:
    with pytest.raises(CryptoError, match="JSON"):
        _seal(portal_key, device_key, blob=object())


def test_device_key_created_0600_and_reloaded(tmp_path: Path) -> None:
    k1 = keys.load_or_create_device_key(tmp_path)
    path = keys.device_key_path(tmp_path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    k2 = keys.load_or_create_device_key(tmp_path)
    assert keys.public_pem(k1) == keys.public_pem(k2)


def test_corrupt_and_wrong_type_keys(tmp_path: Path) -> None:
    keys.device_key_path(tmp_path).parent.mkdir(parents=True)
    keys.device_key_path(tmp_path).write_bytes(b"garbage")
    with pytest.raises(CryptoError, match="PEM"):
        keys.load_or_create_device_key(tmp_path)
    pub = tmp_path / "portal.pem"
    pub.write_bytes(keys.public_pem(Ed25519PrivateKey.generate()))
    with pytest.raises(CryptoError, match="X25519"):
        keys.load_portal_public_key(pub)
    with pytest.raises(CryptoError, match="cannot read"):
        keys.load_portal_public_key(tmp_path / "missing.pem")


def test_sealer_from_config(tmp_path: Path, portal_key: X25519PrivateKey) -> None:
    pub = tmp_path / "portal.pem"
    pub.write_bytes(keys.public_pem(portal_key))
    cfg = parse_config(
        {"paths": {"data_dir": str(tmp_path / "d")}, "uplink": {"portal_public_key": str(pub)}}
    )
    sealer = env.sealer_from_config(cfg)
    sealed = sealer.seal("registration", RID, {"x": 1})
    dev = keys.load_or_create_device_key(tmp_path / "d")
    opened = env.open_envelope(
        sealed, portal_private_key=portal_key, device_public_key=dev.public_key()
    )
    assert opened.record == {"x": 1} and opened.device_id == cfg.device.id
    with pytest.raises(CryptoError, match="portal_public_key"):
        env.sealer_from_config(parse_config({"paths": {"data_dir": str(tmp_path)}}))
