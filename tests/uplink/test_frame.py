"""Signed frames (uplink format 2): many sealed envelopes under one device signature."""

from __future__ import annotations

import json
import struct

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.crypto import envelope as env
from kiosk.crypto.frame import MAX_RECORDS, claimed, frame, open_frame
from kiosk.crypto.keys import key_id
from kiosk.crypto.signed import canonical
from kiosk.errors import CryptoError

DEV = "kiosk-f-01"
KEY = Ed25519PrivateKey.generate()
PORTAL = X25519PrivateKey.generate()


def keys(device_id: str) -> Ed25519PublicKey:
    if device_id != DEV:
        raise CryptoError("not enrolled")
    return KEY.public_key()


def sealed(i: int) -> bytes:
    rid = f"rid-{i}"
    return env.seal(
        {"record_id": rid, "n": i},
        kind="registration",
        record_id=rid,
        device_id=DEV,
        portal_public_key=PORTAL.public_key(),
        device_private_key=KEY,
    )


def test_round_trip_and_open_inside_the_frame() -> None:
    envs = [sealed(i) for i in range(5)]
    got = open_frame(frame(envs, kind="registration", device_id=DEV, key=KEY), keys)
    assert (got.device_id, got.kind, got.kid) == (DEV, "registration", key_id(KEY.public_key()))
    assert got.envelopes == tuple(envs)
    opened = [
        env.open_framed(e, device_id=DEV, kid=got.kid, portal_private_key=PORTAL)
        for e in got.envelopes
    ]
    assert [o.record["n"] for o in opened] == [0, 1, 2, 3, 4]


def test_every_byte_is_signed() -> None:
    payload = frame([sealed(0), sealed(1)], kind="registration", device_id=DEV, key=KEY)
    for pos in range(0, len(payload), 7):
        bad = bytearray(payload)
        bad[pos] ^= 0x01
        with pytest.raises(CryptoError):
            open_frame(bytes(bad), keys)


def test_another_devices_key_or_an_unenrolled_device_is_refused() -> None:
    other = Ed25519PrivateKey.generate()
    with pytest.raises(CryptoError, match="not enrolled for this device"):
        open_frame(frame([sealed(0)], kind="registration", device_id=DEV, key=other), keys)
    with pytest.raises(CryptoError, match="not enrolled"):
        open_frame(frame([sealed(0)], kind="registration", device_id="kiosk-x", key=KEY), keys)


def test_a_bare_envelope_format_1_is_refused() -> None:
    with pytest.raises(CryptoError, match="format 1"):
        open_frame(sealed(0), keys)
    assert claimed(sealed(0)) == ()


def _forge(header: dict[str, object], body: bytes, *, raw: bytes | None = None) -> bytes:
    raw = canonical(header) if raw is None else raw
    data = b"PKF2" + struct.pack(">H", len(raw)) + raw + body
    return data + KEY.sign(data)


@pytest.mark.parametrize(
    ("header", "body", "why"),
    [
        ({"device_id": DEV, "kid": "k", "kind": "registration", "n": 2},
         struct.pack(">I", 3) + b"abc", "truncated"),
        ({"device_id": DEV, "kid": "k", "kind": "registration", "n": 1},
         struct.pack(">I", 3) + b"abcdef", "after its last"),
        ({"device_id": DEV, "kid": "k", "kind": "registration", "n": 1},
         struct.pack(">I", 99) + b"abc", "length"),
        ({"device_id": DEV, "kid": "k", "kind": "registration", "n": 0}, b"", "1 to"),
        ({"device_id": DEV, "kid": "k", "kind": "registration", "n": MAX_RECORDS + 1}, b"", "1 to"),
        ({"device_id": DEV, "kid": "k", "kind": "registration", "n": True}, b"", "1 to"),
        ({"device_id": DEV, "kid": "k", "kind": "registration"}, b"", "expected fields"),
        ({"device_id": "", "kid": "k", "kind": "registration", "n": 1}, b"", "non-empty"),
    ],
)  # fmt: skip
def test_malformed_frames_are_refused_before_any_key_lookup(
    header: dict[str, object], body: bytes, why: str
) -> None:
    with pytest.raises(CryptoError, match=why):
        open_frame(_forge(header, body), lambda _d: pytest.fail("key looked up"))  # type: ignore[arg-type,return-value]


def test_non_canonical_header_is_refused() -> None:
    header = {"n": 1, "kind": "registration", "kid": "k", "device_id": DEV}  # unsorted
    with pytest.raises(CryptoError, match="canonical"):
        open_frame(
            _forge(header, struct.pack(">I", 3) + b"abc", raw=json.dumps(header).encode()), keys
        )
    assert canonical(header) != json.dumps(header).encode()


def test_an_envelope_of_another_device_inside_a_frame_is_refused() -> None:
    other = Ed25519PrivateKey.generate()
    foreign = env.seal(
        {"record_id": "r"},
        kind="registration",
        record_id="r",
        device_id="kiosk-other",
        portal_public_key=PORTAL.public_key(),
        device_private_key=other,
    )
    got = open_frame(frame([foreign], kind="registration", device_id=DEV, key=KEY), keys)
    with pytest.raises(CryptoError, match="does not match its frame"):
        env.open_framed(got.envelopes[0], device_id=DEV, kid=got.kid, portal_private_key=PORTAL)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300) | st.binary(max_size=200).map(lambda b: b"PKF2" + b))
def test_hostile_bytes_only_ever_raise_crypto_error(data: bytes) -> None:
    with pytest.raises(CryptoError):
        open_frame(data, keys)
    claimed(data)  # never raises
