"""The portal's status desk without a broker, on each book (the reference portal's SQLite file
and the ingest workers' real PostgreSQL): found by NIK digest + code across kiosks, signed
answers the kiosk verifies, objections checked (window, ownership, duplicates, shape), decisions
final, queries rate-limited per kiosk (on PostgreSQL by the count the workers share).
Registrations arrive through the ingest store, as the intake writes them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.core.portal_status import nik_digest
from kiosk.errors import ProtocolError
from kiosk.uplink.replies import open_reply
from kiosk.uplink.status_query import parse_status
from portal.ingest.store import Batch, IngestStore, open_store
from portal.queries import QueryLimit, open_counters
from portal.status_book import BOOKS, open_book
from portal.status_desk import StatusDesk
from portal.store import Incoming

NIK = "3510014507900001"
REG = "0193a0a0-0000-7000-8000-000000000001"
RECEIPT = "1234-5678-9012"
T0 = 1_780_000_000.0


class Clock:
    def __init__(self) -> None:
        self.t = T0

    def __call__(self) -> float:
        return self.t


@dataclass
class Portal:
    """One backend's ingest store and the desk over its book (same database)."""

    backend: str
    target: str
    store: IngestStore
    desk: StatusDesk

    def hold(self, device_id: str, record_id: str, kind: str, record: dict[str, Any]) -> None:
        """Store a record as the intake does (one batch), then hand the new ones to the desk."""
        b = Batch(T0)
        assert b.add(Incoming(device_id, record_id, kind, record)) is None
        fresh = self.store.write(b)
        self.desk.on_records([(device_id, record_id, kind, record)] if fresh[0] else [])


def registration(receipt: str = RECEIPT, nik: str = NIK, **reg: Any) -> dict[str, Any]:
    return {
        "nik": nik,
        "receipt_no": receipt,
        "registration": {"id": REG, "version": 1, **reg},
        "verification": {"outcome": "pending"},
    }


@pytest.fixture(params=sorted(BOOKS))
def portal(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Portal]:
    sqlite = str(tmp_path / "p.sqlite3")
    target = request.getfixturevalue("pg_dsn") if request.param == "postgres" else sqlite
    key = Ed25519PrivateKey.generate()
    clock = Clock()
    d = StatusDesk(
        open_book(request.param, target),
        key,
        clock=clock,
        limit=QueryLimit(open_counters(request.param, target), per_window=3, clock=clock),
    )
    d.key, d.test_clock = key, clock  # type: ignore[attr-defined]
    store = open_store(request.param, target)
    p = Portal(request.param, target, store, d)
    p.hold("kiosk-a-01", REG, "registration", registration())
    yield p
    d.close()
    d.limit.close()
    store.close()


@pytest.fixture
def desk(portal: Portal) -> tuple[StatusDesk, Ed25519PrivateKey, Clock]:
    d = portal.desk
    return d, d.key, d.test_clock  # type: ignore[attr-defined]


def key_file(key: Ed25519PrivateKey, tmp_path: Path) -> Path:
    """The portal's signing key as the officer's command reads it (PEM)."""
    from cryptography.hazmat.primitives import serialization

    pem = tmp_path / "sign.pem"
    pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return pem


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


def test_the_officer_command_lists_and_decides(
    portal: Portal, desk, tmp_path: Path, capsys
) -> None:
    from portal.status_desk import main

    d, key, _clock = desk
    pem = key_file(key, tmp_path)
    d.decided("kiosk-a-01", REG, "not_eligible", "income", T0)
    oid = "0193a0a0-0000-7000-8000-000000000009"
    d.on_record("kiosk-b-01", oid, "objection", objection(oid, T0 + 60))
    where = ["--dsn" if portal.backend == "postgres" else "--db", portal.target]
    assert main([*where, "--signing-key", str(pem), "list"]) == 0
    assert oid in capsys.readouterr().out
    args = [*where, "--signing-key", str(pem), "decide", oid]
    assert main([*args, "rejected"]) == 2  # a rejection needs its reason
    assert main([*args, "rejected", "--reason", "bukti kurang"]) == 0
    assert d.objection_state(oid) == ("rejected", "bukti kurang")
    assert main([*args, "upheld"]) == 1  # final


def test_an_objection_by_another_nik_is_not_the_owners(desk) -> None:
    """Ownership: the decision is looked up under the objector's own NIK digest."""
    d, _key, _clock = desk
    d.decided("kiosk-a-01", REG, "not_eligible", "income", T0)
    oid = "0193a0a0-0000-7000-8000-000000000011"
    other = objection(oid, T0 + 60, nik_digest=nik_digest("3510014507900002"))
    d.on_record("kiosk-b-01", oid, "objection", other)
    assert d.objection_state(oid) == ("rejected", "no decision on this registration to object to")


def test_every_version_from_any_kiosk_is_answered_newest_first(portal: Portal) -> None:
    d, key = portal.desk, portal.desk.key  # type: ignore[attr-defined]
    v2 = "0193a0a0-0000-7000-8000-000000000021"
    portal.desk.test_clock.t += 10  # type: ignore[attr-defined]
    portal.hold("kiosk-c-01", v2, "registration", registration(version=2))
    d.decided("kiosk-c-01", v2, "eligible", None, T0 + 20)
    # a hostile "registration" (NIK not text, no receipt) is stored but never found or fatal
    junk = {"nik": 3510014507900001, "registration": {"id": REG, "version": "x"}}
    portal.hold("kiosk-c-01", "0193a0a0-0000-7000-8000-000000000022", "registration", junk)
    found = ask(d, key, "kiosk-b-01", NIK, RECEIPT)
    assert [(r.version, r.status) for r in found.registrations] == [
        (2, "eligible"),
        (1, "received"),
    ]
    assert found.registrations[0].decided_at == T0 + 20


def test_a_redelivered_objection_is_checked_once_and_kept_once(portal: Portal) -> None:
    """The broker redelivers a batch whose commit landed before a crash: the intake sees the
    objection as already held (new=False); the desk still checks it, and only once."""
    from portal.intake import Opened
    from portal.link import Msg

    d = portal.desk
    d.decided("kiosk-a-01", REG, "not_eligible", "income", T0)
    oid = "0193a0a0-0000-7000-8000-000000000031"
    inc = Incoming("kiosk-b-01", oid, "objection", objection(oid, T0 + 60))
    item = Opened(Msg("t", b"", None, 1, 1), inc, False)
    assert d.service("objection", [item]) == []
    assert d.service("objection", [item]) == []
    assert d.objection_state(oid) == ("received", None)
    assert [r[0] for r in d.objections()] == [oid]


@pytest.mark.postgres
def test_two_workers_checking_two_objections_at_once_open_only_one(pg_dsn: str) -> None:
    """Two workers' desks (own connections) keep the rule "one open objection per decision":
    the registration's advisory lock serialises their checks."""
    import threading

    store = open_store("postgres", pg_dsn)
    key = Ed25519PrivateKey.generate()
    desks = [StatusDesk(open_book("postgres", pg_dsn), key, clock=lambda: T0) for _ in range(2)]
    try:
        b = Batch(T0)
        b.add(Incoming("kiosk-a-01", REG, "registration", registration()))
        store.write(b)
        desks[0].decided("kiosk-a-01", REG, "not_eligible", "income", T0)
        for round_ in range(5):
            oids = [f"0193a0a0-0000-7000-8000-00000000{round_}0{i}0" for i in range(2)]
            start = threading.Barrier(2)

            def file(i: int, oids: list[str] = oids, start: threading.Barrier = start) -> None:
                start.wait()
                desks[i].on_record("kiosk-b-01", oids[i], "objection", objection(oids[i], T0 + 60))

            threads = [threading.Thread(target=file, args=(i,)) for i in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
            states = sorted(str(desks[0].objection_state(o)) for o in oids)
            assert states == [
                "('received', None)",
                "('rejected', 'an objection to this decision is already open')",
            ]
            for o in oids:  # close this round's objections before the next
                desks[0].decide_objection(o, "rejected", "uji")
    finally:
        for d in desks:
            d.close()
        store.close()


def test_the_officer_records_a_decision_any_kiosk_then_sees(portal: Portal, tmp_path: Path) -> None:
    """The officer's command records the decision (on PostgreSQL the workers also push it:
    tests/uplink/test_status_push_e2e.py), and the next status query from any kiosk answers
    with it; a registration the portal does not hold gets no decision."""
    from portal.status_desk import main

    d, key = portal.desk, portal.desk.key  # type: ignore[attr-defined]
    pem = key_file(key, tmp_path)
    where = ["--dsn" if portal.backend == "postgres" else "--db", portal.target]
    args = [*where, "--signing-key", str(pem), "decision", "kiosk-a-01", REG]
    assert main([*args, "not_eligible"]) == 2  # its reason is required
    unknown = [*where, "--signing-key", str(pem), "decision", "kiosk-a-01", REG[:-1] + "f"]
    assert main([*unknown, "eligible"]) == 1
    assert main([*args, "not_eligible", "--reason", "penghasilan di atas batas"]) == 0
    reg = ask(d, key, "kiosk-c-01", NIK, RECEIPT).registrations[0]
    assert (reg.status, reg.reason) == ("not_eligible", "penghasilan di atas batas")
    assert reg.decided_at is not None
    with pytest.raises(ValueError):
        d.decided("kiosk-a-01", REG, "approved", None, T0)  # not a portal status
    with pytest.raises(ValueError):
        d.decided("kiosk-a-01", REG, "eligible", "x" * 501, T0)
