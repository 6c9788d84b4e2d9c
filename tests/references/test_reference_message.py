"""Reference-set, revoke and verify-reply messages: schema, version, signature, consistency."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from ref_helpers import VILLAGE, entries, template

from kiosk.core.clock import FakeClock
from kiosk.crypto.keys import public_pem
from kiosk.crypto.signed import sign_message
from kiosk.errors import CryptoError, ProtocolError
from kiosk.references.message import (
    MAX_SET_BYTES,
    RejectedMessage,
    check_template,
    encode_template,
    load_signing_public_key,
    load_trusted_keys,
    parse_reference_set,
    parse_revocation,
    parse_verify_reply,
    portal_signing_key_path,
)


def _tamper(payload: bytes, **changes: Any) -> bytes:
    data = json.loads(payload)
    data.update(changes)
    return json.dumps(data).encode()


def _parse(payload: bytes, key: Ed25519PrivateKey, clock: FakeClock) -> Any:
    return parse_reference_set(
        payload, trusted=key.public_key(), village_code=VILLAGE, now=clock.now()
    )


def test_valid_set_parses(
    make_set: Callable[..., bytes], portal_key: Ed25519PrivateKey, clock: FakeClock
) -> None:
    refs = _parse(make_set(7), portal_key, clock)
    assert refs.version == 7
    assert refs.village_code == VILLAGE
    assert [e.nik for e in refs.entries] == [e.nik for e in entries()]
    assert refs.entries[1].template == template(1)
    assert refs.expires_at > refs.issued_at
    assert "3510" not in repr(refs.entries[0])  # entries never print personal data


def test_any_trusted_key_of_several_is_accepted(
    make_set: Callable[..., bytes], portal_key: Ed25519PrivateKey, clock: FakeClock
) -> None:
    other = Ed25519PrivateKey.generate().public_key()
    refs = parse_reference_set(
        make_set(), trusted=[other, portal_key.public_key()], village_code=VILLAGE, now=clock.now()
    )
    assert refs.version == 1


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda p: b"\xff\xfe" + p, "not_json"),
        (lambda p: b"[1, 2]", "schema"),
        (lambda p: _tamper(p, v=2), "bad_version"),
        (lambda p: _tamper(p, set_version=0), "schema"),
        (lambda p: _tamper(p, extra="x"), "schema"),
        (lambda p: _tamper(p, village_code="35.10"), "schema"),
        (lambda p: _tamper(p, set_version=99), "bad_signature"),
        (lambda p: _tamper(p, kid="AAAAAAAAAAAAAAAA"), "unknown_key"),
    ],
    ids=[
        "not-json",
        "not-object",
        "version-2",
        "version-0",
        "extra",
        "village-format",
        "tampered",
        "unknown-kid",
    ],
)
def test_bad_messages_are_rejected_with_reason(
    make_set: Callable[..., bytes],
    portal_key: Ed25519PrivateKey,
    clock: FakeClock,
    mutate: Callable[[bytes], bytes],
    reason: str,
) -> None:
    with pytest.raises(RejectedMessage) as err:
        _parse(mutate(make_set()), portal_key, clock)
    assert err.value.reason == reason
    assert isinstance(err.value, ProtocolError)


def test_signed_by_another_key_is_rejected(
    make_set: Callable[..., bytes], portal_key: Ed25519PrivateKey, clock: FakeClock
) -> None:
    rogue = Ed25519PrivateKey.generate()
    with pytest.raises(RejectedMessage) as err:
        _parse(make_set(key=rogue), portal_key, clock)
    assert err.value.reason == "unknown_key"


def test_forged_signature_under_the_trusted_kid_is_rejected(
    make_set: Callable[..., bytes], portal_key: Ed25519PrivateKey, clock: FakeClock
) -> None:
    rogue = Ed25519PrivateKey.generate()
    forged = json.loads(make_set(key=rogue))
    forged["kid"] = json.loads(make_set())["kid"]
    with pytest.raises(RejectedMessage) as err:
        _parse(json.dumps(forged).encode(), portal_key, clock)
    assert err.value.reason == "bad_signature"


def test_no_trusted_key_rejects_everything(
    make_set: Callable[..., bytes], clock: FakeClock
) -> None:
    with pytest.raises(RejectedMessage) as err:
        parse_reference_set(make_set(), trusted=[], village_code=VILLAGE, now=clock.now())
    assert err.value.reason == "no_trusted_key"


def test_other_village_is_rejected(
    make_set: Callable[..., bytes], portal_key: Ed25519PrivateKey, clock: FakeClock
) -> None:
    with pytest.raises(RejectedMessage) as err:
        _parse(make_set(village="3510012002"), portal_key, clock)
    assert err.value.reason == "wrong_village"


def test_already_expired_set_is_rejected(
    make_set: Callable[..., bytes], portal_key: Ed25519PrivateKey, clock: FakeClock
) -> None:
    payload = make_set(ttl_s=60)
    clock.advance(61)
    with pytest.raises(RejectedMessage) as err:
        _parse(payload, portal_key, clock)
    assert err.value.reason == "expired"


def test_expiry_before_issue_is_rejected(
    make_set: Callable[..., bytes], portal_key: Ed25519PrivateKey, clock: FakeClock
) -> None:
    payload = make_set(expires_at=int(clock.now()) - 5)
    with pytest.raises(RejectedMessage) as err:
        _parse(payload, portal_key, clock)
    assert err.value.reason == "bad_expiry"


def test_duplicate_nik_is_rejected(
    make_set: Callable[..., bytes], portal_key: Ed25519PrivateKey, clock: FakeClock
) -> None:
    one = entries(1)[0]
    with pytest.raises(RejectedMessage) as err:
        _parse(make_set(items=[one, one]), portal_key, clock)
    assert err.value.reason == "duplicate_nik"
    assert one.nik not in str(err.value)  # the reason never carries the NIK


def test_bad_template_is_rejected(
    make_set: Callable[..., bytes], portal_key: Ed25519PrivateKey, clock: FakeClock
) -> None:
    body = json.loads(make_set())
    del body["sig"], body["kid"]
    body["references"][0]["template"] = base64.b64encode(b"XXXX" + template(0)[4:]).decode()
    with pytest.raises(RejectedMessage) as err:
        _parse(sign_message(body, portal_key), portal_key, clock)
    assert err.value.reason == "bad_template"


def test_oversized_message_is_refused_before_parsing(
    portal_key: Ed25519PrivateKey, clock: FakeClock
) -> None:
    with pytest.raises(RejectedMessage) as err:
        _parse(b" " * (MAX_SET_BYTES + 1), portal_key, clock)
    assert err.value.reason == "too_large"


@pytest.mark.parametrize(
    ("blob", "message"),
    [
        (b"KFT1" + b"\x00" * 10, "wrong length"),
        (b"KFT2" + b"\x00" * 512, "wrong length or magic"),
        (b"KFT1" + b"\x00" * 512, "all zeros"),
        (b"KFT1" + b"\x00\x00\xc0\x7f" * 128, "non-finite"),
    ],
)
def test_check_template(blob: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_template(blob)


def test_short_template_cannot_be_encoded() -> None:
    with pytest.raises(ValueError, match="KFT1"):
        encode_template(b"short")


def test_revocation_parses_and_checks_village(
    make_revoke: Callable[..., bytes], portal_key: Ed25519PrivateKey
) -> None:
    rev = parse_revocation(make_revoke(4), trusted=portal_key.public_key(), village_code=VILLAGE)
    assert (rev.version, rev.reason) == (4, "registry correction")
    with pytest.raises(RejectedMessage) as err:
        parse_revocation(
            make_revoke(4, village="3510012002"),
            trusted=portal_key.public_key(),
            village_code=VILLAGE,
        )
    assert err.value.reason == "wrong_village"
    with pytest.raises(RejectedMessage) as err:
        parse_revocation(
            _tamper(make_revoke(4), set_version=5),
            trusted=portal_key.public_key(),
            village_code=VILLAGE,
        )
    assert err.value.reason == "bad_signature"


def _reply(key: Ed25519PrivateKey, **over: Any) -> bytes:
    body = {
        "v": 1,
        "kind": "verify_reply",
        "request_id": "0190f5c2-0000-7000-8000-000000000001",
        "device_id": "kiosk-demo-01",
        "result": "matched",
        "match": "HIGH",
        "issued_at": 1_780_000_000,
    }
    body.update(over)
    return sign_message(body, key)


def test_verify_reply_parses(portal_key: Ed25519PrivateKey) -> None:
    reply = parse_verify_reply(
        _reply(portal_key), trusted=portal_key.public_key(), device_id="kiosk-demo-01"
    )
    assert (reply.result, reply.match) == ("matched", "HIGH")


@pytest.mark.parametrize(
    ("over", "device", "reason"),
    [
        ({}, "kiosk-other-02", "wrong_device"),
        ({"result": "no_reference"}, "kiosk-demo-01", "inconsistent"),
        ({"result": "matched", "match": None}, "kiosk-demo-01", "inconsistent"),
        ({"match": "GREAT"}, "kiosk-demo-01", "schema"),
    ],
)
def test_bad_verify_replies(
    portal_key: Ed25519PrivateKey, over: dict[str, Any], device: str, reason: str
) -> None:
    with pytest.raises(RejectedMessage) as err:
        parse_verify_reply(
            _reply(portal_key, **over), trusted=portal_key.public_key(), device_id=device
        )
    assert err.value.reason == reason


def test_signing_key_loading(tmp_path: Path, portal_key: Ed25519PrivateKey) -> None:
    assert load_trusted_keys(tmp_path) == []
    path = portal_signing_key_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_bytes(public_pem(portal_key))
    (loaded,) = load_trusted_keys(tmp_path)
    assert loaded.public_bytes_raw() == portal_key.public_key().public_bytes_raw()
    path.write_text("not a key")
    with pytest.raises(CryptoError, match="not a readable PEM"):
        load_signing_public_key(path)
    with pytest.raises(CryptoError, match="cannot read"):
        load_signing_public_key(tmp_path / "missing.pem")


@pytest.mark.parametrize(
    "bad",
    [
        {"nik": "12", "kk": "3510012001000001", "initials": "A", "template": "x"},
        {"nik": "3510011203850009", "kk": "3510012001000001", "initials": ""},
        "not an object",
        {
            "nik": "3510011203850009",
            "kk": "3510012001000001",
            "initials": "A" * 13,
            "template": base64.b64encode(template(3)).decode(),
        },
        {
            "nik": "3510011203850009",
            "kk": "3510012001000001",
            "initials": "A",
            "template": base64.b64encode(template(3)).decode(),
            "extra": 1,
        },
        {
            "nik": "3510011203850009",
            "kk": "35100120010000",
            "initials": "A",
            "template": base64.b64encode(template(3)).decode(),
        },
    ],
    ids=["short-nik", "missing-template", "not-object", "long-initials", "extra-key", "short-kk"],
)
def test_bad_entry_after_the_first_is_a_schema_error(
    make_set: Callable[..., bytes],
    portal_key: Ed25519PrivateKey,
    clock: FakeClock,
    bad: Any,
) -> None:
    body = json.loads(make_set())
    del body["sig"], body["kid"]
    body["references"].append(bad)
    with pytest.raises(RejectedMessage) as err:
        _parse(sign_message(body, portal_key), portal_key, clock)
    assert err.value.reason == "schema"
    assert "references/3" in str(err.value)


def test_fast_item_rules_agree_with_the_schema_file() -> None:
    from kiosk.references.message import MAX_ENTRIES
    from kiosk.uplink.messages import validator

    schema = validator("references").schema
    items = schema["properties"]["references"]
    assert items["maxItems"] == MAX_ENTRIES
    assert set(items["items"]["required"]) == {"nik", "kk", "initials", "template"}
    assert items["items"]["additionalProperties"] is False


def test_too_many_entries_are_refused(
    make_set: Callable[..., bytes], portal_key: Ed25519PrivateKey, clock: FakeClock
) -> None:
    from kiosk.references.message import MAX_ENTRIES

    body = json.loads(make_set())
    del body["sig"], body["kid"]
    body["references"] = body["references"] * (MAX_ENTRIES // 3 + 1)
    with pytest.raises(RejectedMessage) as err:
        _parse(sign_message(body, portal_key), portal_key, clock)
    assert err.value.reason == "schema"
