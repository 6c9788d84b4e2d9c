"""The signed recipient list: installed when valid and newer, refused (the old one kept) when
unsigned, forged, over-size, for another village, carrying a NIK, or older."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from report_helpers import VILLAGE, Kit, households, signed_list

from kiosk.crypto.signed import canonical
from kiosk.errors import ProtocolError
from kiosk.reports.recipients import fast_valid, page_of, sign_list
from kiosk.uplink import messages
from kiosk.uplink.topics import TOPICS


def test_a_valid_list_is_installed_sealed_at_rest_and_paged_by_dusun(kit: Kit) -> None:
    assert kit.inbox(signed_list(kit.key))
    lst = kit.store.current(VILLAGE)
    assert lst is not None and lst.version == 1 and len(lst.households) == 14
    assert lst.dusun == ("Krajan", "Sumberejo", "Tegalsari")
    raw = kit.conn.execute("SELECT entries_sealed FROM recipient_list").fetchone()[0]
    assert b"Kepala" not in raw and b"Krajan" not in raw  # names only sealed at rest
    first = page_of(lst.households, 1, "Sumberejo", size=3)
    assert first.total == 5 and first.pages == 2 and {h.dusun for h in first.items} == {"Sumberejo"}
    assert [int(h.rt) for h in first.items] == sorted(int(h.rt) for h in first.items)
    assert page_of(lst.households, 99, "Sumberejo", size=3).number == 2  # clamped
    assert "Kepala" not in repr(first.items[0])


def tampered(payload: bytes) -> bytes:
    data = json.loads(payload)
    data["households"][0]["name"] = "Orang Lain"
    return canonical(data)


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda k: tampered(signed_list(k.key, 2)), "bad_signature"),
        (lambda k: signed_list(Ed25519PrivateKey.generate(), 2), "unknown_key"),
        (
            lambda k: canonical(
                {k2: v for k2, v in json.loads(signed_list(k.key, 2)).items() if k2 != "sig"}
            ),
            "unsigned",
        ),
        (lambda k: b"x" * (TOPICS["recipients"].max_bytes + 1), "too_large"),
        (lambda k: b"{not json", "not_json"),
        (lambda k: signed_list(k.key, 2, village_code="3510012002"), "other_village"),
        (
            lambda k: signed_list(
                k.key, 2, households=[{**households(1)[0], "name": "Siti 3510014501580001"}]
            ),
            "nik",
        ),
        (
            lambda k: signed_list(k.key, 2, households=[{**households(1)[0], "nik": "1" * 16}]),
            "schema",
        ),
        (lambda k: signed_list(k.key, 2, households=households(1) * 2), "schema"),
        (lambda k: b"", "empty"),
    ],
)
def test_a_bad_list_is_refused_and_the_one_held_stays(kit: Kit, make, reason: str) -> None:
    assert kit.inbox(signed_list(kit.key, 1))
    assert not kit.inbox(make(kit))
    assert kit.inbox.rejected == {reason: 1}
    lst = kit.store.current(VILLAGE)
    assert lst is not None and lst.version == 1 and lst.households[0].name.startswith("Kepala")


def test_an_older_list_is_refused_and_the_retained_copy_is_a_no_op(kit: Kit) -> None:
    assert kit.inbox(signed_list(kit.key, 3))
    assert kit.inbox(signed_list(kit.key, 3))  # the retained copy again after a reconnect
    assert not kit.inbox(signed_list(kit.key, 2, households=households(2)))
    assert kit.inbox.rejected == {"stale_version": 1}
    assert len(kit.store.current(VILLAGE).households) == 14  # type: ignore[union-attr]
    assert kit.inbox(signed_list(kit.key, 4, households=households(2)))
    assert len(kit.store.current(VILLAGE).households) == 2  # type: ignore[union-attr]


def test_the_portal_side_refuses_to_sign_a_list_with_a_nik(kit: Kit) -> None:
    body = json.loads(signed_list(kit.key))
    for k in ("v", "kind", "kid", "sig"):
        body.pop(k)
    assert kit.inbox(sign_list(body, kit.key))
    body["households"][0]["name"] = "Siti 3510014501580001"
    with pytest.raises(ProtocolError):
        sign_list(body, kit.key)


def schema_ok(data: object) -> bool:
    try:
        messages.check("recipients", data)
    except ProtocolError:
        return False
    return True


VALID = json.loads(signed_list(Ed25519PrivateKey.generate()))


def mutations() -> list[object]:
    """The valid list, and one bend of every rule of its schema."""
    out: list[object] = [VALID]
    h0 = VALID["households"][0]
    for key, value in [
        ("v", 2),
        ("v", True),
        ("kind", "roster"),
        ("village_code", "351001200"),
        ("village_code", "３５１００１２００１"),
        ("list_version", 0),
        ("list_version", 1.5),
        ("list_version", True),
        ("issued_at", -1),
        ("dusun", ["a"] * 61),
        ("dusun", [""]),
        ("dusun", ["x" * 41]),
        ("dusun", ["a", "a"]),
        ("households", {}),
        ("kid", "short"),
        ("sig", "x"),
        ("extra", 1),
    ]:
        out.append({**VALID, key: value})
    out.append({k: v for k, v in VALID.items() if k != "dusun"})
    for key, value in [
        ("ref", "-bad"),
        ("ref", "R\n"),
        ("ref", "x" * 41),
        ("name", ""),
        ("name", "n" * 81),
        ("name", 7),
        ("dusun", ""),
        ("rt", "1234"),
        ("rt", "01\n"),
        ("rt", 1),
        ("programmes", ["pkh", "pkh"]),
        ("programmes", ["sembako"]),
        ("programmes", "pkh"),
        ("nik", "3510014501580001"),
    ]:
        out.append({**VALID, "households": [{**h0, key: value}]})
    out.append({**VALID, "households": [{k: v for k, v in h0.items() if k != "rt"}]})
    return out


@pytest.mark.parametrize("data", mutations())
def test_the_fast_check_is_never_looser_than_the_schema(data: object) -> None:
    if fast_valid(data):
        assert schema_ok(data)
    assert fast_valid(VALID) and schema_ok(VALID)
