"""The portal's family card desk without a broker, on both indexes (the reference portal's
SQLite table, PostgreSQL's expression index over ``record``): a No. KK registered at any kiosk
is known by its digest, the signed answer carries only what an update needs, queries are
rate-limited per kiosk, and junk in stored records or in the request never leaks or breaks."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.core.family_card import kk_digest
from kiosk.crypto.signed import RejectedMessage
from kiosk.errors import ProtocolError
from kiosk.uplink.replies import open_reply
from portal.family_cards import FamilyDesk, FamilyIndex, Row, SqliteFamilyIndex, pick
from portal.ingest.store import Batch, open_store
from portal.queries import QueryLimit
from portal.store import Incoming

KK = "3510011501200003"
NIK = "3510014507900001"
REG_A = "0193a0a0-0000-7000-8000-00000000000a"
REG_B = "0193a0a0-0000-7000-8000-00000000000b"
RID = "0193a0a0-0000-7000-8000-0000000000{:02d}"
T0 = 1_780_000_000.0

Add = Callable[[float, str, str, dict[str, Any]], None]


def registration(reg_id: str, version: int, kk: str = KK, **answers: Any) -> dict[str, Any]:
    return {
        "nik": NIK,
        "receipt_no": "1234-5678-9012",
        "registration": {"id": reg_id, "version": version, "same_family_card": version > 1},
        "answers": {"kk_number": kk, "head_name": "Siti Aminah", **answers},
    }


@pytest.fixture(params=["sqlite", "postgres"])
def index(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Add, FamilyIndex]]:
    """(add(at, device, record id, record), index) on each backend."""
    if request.param == "postgres":
        from portal.family_cards import PostgresFamilyIndex

        dsn = request.getfixturevalue("pg_dsn")
        store = open_store("postgres", dsn)

        def add_pg(at: float, device: str, rid: str, record: dict[str, Any]) -> None:
            b = Batch(at)
            assert b.add(Incoming(device, rid, "registration", record)) is None
            store.write(b)

        pg = PostgresFamilyIndex(dsn)
        yield add_pg, pg
        pg.close()
        store.close()
        return
    now = [T0]
    sq = SqliteFamilyIndex(tmp_path / "portal.sqlite3", clock=lambda: now[0])

    def add_sqlite(at: float, device: str, rid: str, record: dict[str, Any]) -> None:
        now[0] = at
        sq.on_records([(device, rid, "registration", record)])

    yield add_sqlite, sq
    sq.close()


def request_for(kk: str, device: str = "kiosk-b-01", **extra: Any) -> dict[str, Any]:
    return {
        "v": 1,
        "request_id": "0193a0a0-0000-7000-8000-00000000aaaa",
        "device_id": device,
        "kk_digest": kk_digest(kk),
        "requested_at": T0,
        **extra,
    }


def answer(desk: FamilyDesk, key: Ed25519PrivateKey, kk: str) -> dict[str, Any]:
    payload = desk.answer("kiosk-b-01", request_for(kk))
    return open_reply("kk_reply", "kiosk-b-01", payload, lambda: [key.public_key()])


def test_a_card_registered_at_another_kiosk_is_known_with_only_what_an_update_needs(
    index: tuple[Add, FamilyIndex],
) -> None:
    add, idx = index
    add(T0, "kiosk-a-01", REG_A, registration(REG_A, 1, members_count=3))
    add(T0 + 50, "kiosk-a-01", RID.format(2), registration(REG_A, 2, members_count=4))
    add(T0 + 60, "kiosk-c-01", RID.format(3), registration(REG_A, 3, members_count=5))
    add(T0 + 70, "kiosk-a-01", RID.format(4), registration(RID.format(4), 1, "3510011501200099"))
    key = Ed25519PrivateKey.generate()
    desk = FamilyDesk(idx, key, clock=lambda: T0 + 100)
    reply = answer(desk, key, KK)
    assert reply["result"] == "known"
    assert reply["registration"] == {
        "registration_id": REG_A,
        "version": 3,
        "registered_at": pytest.approx(T0),
        "members_count": 5,
    }
    text = json.dumps(reply)
    for secret in (KK, NIK, "1234-5678-9012", "Siti", kk_digest(KK)):
        assert secret not in text, secret
    unknown = answer(desk, key, "3510011501200004")
    assert (unknown["result"], unknown["registration"]) == ("not_known", None)


def test_two_offline_registrations_of_one_card_converge_on_the_first(
    index: tuple[Add, FamilyIndex],
) -> None:
    add, idx = index
    add(T0 + 10, "kiosk-c-01", REG_B, registration(REG_B, 1, members_count=2))
    add(T0, "kiosk-a-01", REG_A, registration(REG_A, 1))
    found = pick(idx.rows(kk_digest(KK)))
    assert found is not None and (found.registration_id, found.version) == (REG_A, 1)
    assert found.members_count is None, "no member list given: no count"


def test_junk_in_stored_records_is_never_answered(index: tuple[Add, FamilyIndex]) -> None:
    add, idx = index
    add(T0, "kiosk-a-01", RID.format(1), {"answers": {"kk_number": 3510011501200003}})
    add(T0, "kiosk-a-01", RID.format(2), {"answers": "x", "registration": []})
    add(
        T0,
        "kiosk-a-01",
        RID.format(3),
        {"registration": {"id": "not-a-uuid", "version": 1}, "answers": {"kk_number": KK}},
    )
    add(T0 + 1, "kiosk-a-01", RID.format(4), registration(REG_A, 1, members_count=500))
    found = pick(idx.rows(kk_digest(KK)))
    assert found is not None and found.registration_id == REG_A
    assert found.members_count is None, "an absurd count is not passed on"


def test_pick_ignores_rows_no_kiosk_could_use() -> None:
    assert pick([]) is None
    assert pick([Row("x", 1, T0, 2), Row(REG_A, 0, T0, 2)]) is None
    assert pick([Row(REG_A, 2, T0, True)]) == pick([Row(REG_A, 2, T0, None)])


def test_queries_are_rate_limited_per_kiosk(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    now = [0.0]
    desk = FamilyDesk(
        SqliteFamilyIndex(tmp_path / "p.sqlite3"),
        key,
        limit=QueryLimit(per_window=2, window_s=60, clock=lambda: now[0]),
    )
    assert [answer(desk, key, KK)["result"] for _ in range(3)] == [
        "not_known",
        "not_known",
        "refused",
    ]
    other = desk.answer("kiosk-c-01", request_for(KK, "kiosk-c-01"))
    assert b'"not_known"' in other, "another kiosk is not held back"
    now[0] = 61.0
    assert answer(desk, key, KK)["result"] == "not_known"


def test_bad_requests_are_not_answered(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    desk = FamilyDesk(SqliteFamilyIndex(tmp_path / "p.sqlite3"), key)
    with pytest.raises(ProtocolError):
        desk.answer("kiosk-b-01", {**request_for(KK), "kk": KK})  # the KK in clear: refused
    with pytest.raises(ProtocolError):
        desk.answer("kiosk-b-01", {**request_for(KK), "kk_digest": KK})
    with pytest.raises(ProtocolError, match="another device"):
        desk.answer("kiosk-b-01", request_for(KK, "kiosk-c-01"))


def test_a_reply_signed_for_another_kiosk_or_by_another_key_is_refused(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    desk = FamilyDesk(SqliteFamilyIndex(tmp_path / "p.sqlite3"), key)
    payload = desk.answer("kiosk-b-01", request_for(KK))
    with pytest.raises(RejectedMessage) as err:
        open_reply("kk_reply", "kiosk-c-01", payload, lambda: [key.public_key()])
    assert err.value.reason == "wrong_device"
    stranger = Ed25519PrivateKey.generate().public_key()
    with pytest.raises(RejectedMessage):
        open_reply("kk_reply", "kiosk-b-01", payload, lambda: [stranger])
