"""The portal's status desk without a broker: index by NIK digest + code across kiosks, signed
answers the kiosk verifies, objections checked (window, duplicates, shape), decisions final,
queries rate-limited per kiosk."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.core.portal_status import nik_digest
from kiosk.errors import ProtocolError
from kiosk.uplink.replies import open_reply
from kiosk.uplink.status_query import parse_status
from portal.status_desk import StatusDesk

NIK = "3510014507900001"
REG = "0193a0a0-0000-7000-8000-000000000001"
RECEIPT = "1234-5678-9012"
T0 = 1_780_000_000.0


class Clock:
    def __init__(self) -> None:
        self.t = T0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def desk(tmp_path: Path) -> tuple[StatusDesk, Ed25519PrivateKey, Clock]:
    key = Ed25519PrivateKey.generate()
    clock = Clock()
    d = StatusDesk(tmp_path / "p.sqlite3", key, clock=clock, monotonic=clock, queries_per_window=3)
    d.on_record(
        "kiosk-a-01",
        REG,
        "registration",
        {
            "nik": NIK,
            "receipt_no": RECEIPT,
            "registration": {"id": REG, "version": 1},
            "verification": {"outcome": "pending"},
        },
    )
    return d, key, clock


def ask(d: StatusDesk, key: Ed25519PrivateKey, device: str, nik: str, code: str) -> Any:
    request = {
        "v": 1,
        "request_id": "0193a0a0-0000-7000-8000-00000000aaaa",
        "device_id": device,
        "nik_digest": nik_digest(nik),
        "receipt_no": code,
        "requested_at": T0,
    }
    payload = d.answer(device, request)
    return parse_status(open_reply("status_reply", device, payload, lambda: [key.public_key()]))


def objection(oid: str, filed_at: float, **extra: Any) -> dict[str, Any]:
    record = {
        "v": 1,
        "objection_id": oid,
        "device_id": "kiosk-b-01",
        "registration_id": REG,
        "record_id": REG,
        "receipt_no": RECEIPT,
        "nik_digest": nik_digest(NIK),
        "reason_code": "wrong_data",
        "note": None,
        "evidence": None,
        "filed_by": {"role": "villager", "agent_id": None},
        "decision": {"status": "not_eligible", "decided_at": T0, "source": "portal"},
        "clock": {"wall": filed_at, "monotonic": 1.0, "boot_id": "b", "synced": True},
    }
    record.update(extra)
    return record


def test_any_kiosk_finds_a_registration_by_digest_and_code_only(desk) -> None:
    d, key, _clock = desk
    found = ask(d, key, "kiosk-b-01", NIK, RECEIPT)
    assert found.result == "found" and found.registrations[0].status == "received"
    assert ask(d, key, "kiosk-b-01", NIK, "1234-5678-9013").result == "not_found"
    assert ask(d, key, "kiosk-b-01", "3510014507900002", RECEIPT).result == "not_found"


def test_an_answer_for_one_kiosk_is_refused_by_another(desk) -> None:
    d, key, _clock = desk
    request = {
        "v": 1,
        "request_id": "0193a0a0-0000-7000-8000-00000000aaaa",
        "device_id": "kiosk-b-01",
        "nik_digest": nik_digest(NIK),
        "receipt_no": RECEIPT,
        "requested_at": T0,
    }
    payload = d.answer("kiosk-b-01", request)
    with pytest.raises(ProtocolError, match="wrong_device"):
        open_reply("status_reply", "kiosk-c-01", payload, lambda: [key.public_key()])
    with pytest.raises(ProtocolError):
        d.answer("kiosk-c-01", request)  # a request naming another device is not answered


def test_objections_are_checked_and_decided(desk) -> None:
    d, key, _clock = desk
    oid1, oid2, oid3 = (f"0193a0a0-0000-7000-8000-00000000000{i}" for i in (2, 3, 4))
    d.on_record("kiosk-b-01", oid1, "objection", objection(oid1, T0))
    assert d.objection_state(oid1) == ("rejected", "no decision on this registration to object to")
    d.decided("kiosk-a-01", REG, "not_eligible", "income", T0)
    d.on_record("kiosk-b-01", oid2, "objection", objection(oid2, T0 + 86400))
    assert d.objection_state(oid2) == ("received", None)
    d.on_record("kiosk-b-01", oid3, "objection", objection(oid3, T0 + 2 * 86400))
    assert d.objection_state(oid3) == (
        "rejected",
        "an objection to this decision is already open",
    )
    assert d.decide_objection(oid2, "under_review")
    assert d.decide_objection(oid2, "upheld")
    assert not d.decide_objection(oid2, "rejected", "late change")  # upheld is final
    with pytest.raises(ValueError):
        d.decide_objection(oid2, "rejected")  # a rejection needs a reason
    answer = ask(d, key, "kiosk-b-01", NIK, RECEIPT)
    assert answer.registrations[0].status == "not_eligible"
    assert {o.objection_id: o.state for o in answer.objections}[oid2] == "upheld"


def test_late_and_malformed_objections_are_kept_as_rejected(desk) -> None:
    d, _key, _clock = desk
    d.decided("kiosk-a-01", REG, "eligible", None, T0)
    late = "0193a0a0-0000-7000-8000-000000000005"
    d.on_record("kiosk-b-01", late, "objection", objection(late, T0 + 31 * 86400))
    assert d.objection_state(late) == ("rejected", "filed after the objection window closed")
    bad = "0193a0a0-0000-7000-8000-000000000006"
    d.on_record("kiosk-b-01", bad, "objection", objection(bad, T0, note="x" * 501))
    state = d.objection_state(bad)
    assert state is not None and state[0] == "rejected" and "invalid objection" in str(state[1])


def test_a_query_flood_from_one_kiosk_is_refused(desk) -> None:
    d, key, clock = desk
    for _ in range(3):
        assert ask(d, key, "kiosk-b-01", NIK, RECEIPT).result == "found"
    request = {
        "v": 1,
        "request_id": "0193a0a0-0000-7000-8000-00000000aaab",
        "device_id": "kiosk-b-01",
        "nik_digest": nik_digest(NIK),
        "receipt_no": RECEIPT,
        "requested_at": T0,
    }
    body = open_reply(
        "status_reply", "kiosk-b-01", d.answer("kiosk-b-01", request), lambda: [key.public_key()]
    )
    assert body["result"] == "refused" and body["registrations"] == []
    assert ask(d, key, "kiosk-a-01", NIK, RECEIPT).result == "found"  # other kiosks unaffected
    clock.t += 601
    assert ask(d, key, "kiosk-b-01", NIK, RECEIPT).result == "found"


def test_the_officer_command_lists_and_decides(desk, tmp_path: Path, capsys) -> None:
    from cryptography.hazmat.primitives import serialization

    from portal.status_desk import main

    d, key, _clock = desk
    pem = tmp_path / "sign.pem"
    pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    d.decided("kiosk-a-01", REG, "not_eligible", "income", T0)
    oid = "0193a0a0-0000-7000-8000-000000000009"
    d.on_record("kiosk-b-01", oid, "objection", objection(oid, T0 + 60))
    db = tmp_path / "p.sqlite3"
    assert main(["--db", str(db), "--signing-key", str(pem), "list"]) == 0
    assert oid in capsys.readouterr().out
    args = ["--db", str(db), "--signing-key", str(pem), "decide", oid]
    assert main([*args, "rejected"]) == 2  # a rejection needs its reason
    assert main([*args, "rejected", "--reason", "bukti kurang"]) == 0
    assert d.objection_state(oid) == ("rejected", "bukti kurang")
    assert main([*args, "upheld"]) == 1  # final
