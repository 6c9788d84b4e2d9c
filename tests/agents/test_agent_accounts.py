"""Agent accounts: enrolment, PIN hashing, sealed templates, duty status."""

from __future__ import annotations

from typing import Any

import pytest

from kiosk.agents.accounts import (
    ROLES,
    AgentRepository,
    Permission,
    check_pin,
    hash_pin,
    normalise_agent_id,
)
from kiosk.crypto.atrest import AtRestCipher
from kiosk.errors import CryptoError, InputError
from tests.agents.conftest import AGENT_PIN, TEMPLATE, Kit


def test_enrolled_agent_is_listed_with_role_but_no_secrets(kit: Kit) -> None:
    agent = kit.svc.accounts.get("ag-pkh-01")
    assert agent is not None
    assert (agent.agent_id, agent.role, agent.display_name) == ("AG-PKH-01", "pkh", "Bu Rina")
    assert agent.has_template and agent.active and not agent.on_duty
    assert agent.role_info.label == "PKH facilitator"  # a msgid, translated by the UI
    assert [a.agent_id for a in kit.svc.accounts.all()] == ["AG-DW-01", "AG-PKH-01"]


def test_default_scrypt_cost_is_at_least_the_minimum(kit: Kit) -> None:
    repo = AgentRepository(kit.conn, AtRestCipher(kit.key), kit.clock)
    assert repo.params == "scrypt:16384:8:1"
    repo.enrol("AG-PKH-03", "pkh", "Pak Eko", AGENT_PIN, None)
    row = kit.conn.execute("SELECT pin_params FROM agent WHERE agent_id = 'AG-PKH-03'").fetchone()
    assert row[0] == "scrypt:16384:8:1"
    assert repo.verify_pin("AG-PKH-03", AGENT_PIN)


def test_pin_is_stored_as_salted_scrypt_only(kit: Kit) -> None:
    kit.svc.accounts.enrol("AG-PKH-02", "pkh", "Pak Dedi", AGENT_PIN, TEMPLATE)
    rows = kit.conn.execute(
        "SELECT pin_hash, pin_salt, pin_params FROM agent WHERE agent_id LIKE 'AG-PKH-%'"
    ).fetchall()
    (h1, s1, p1), (h2, s2, _) = rows
    assert p1.startswith("scrypt:")
    assert s1 != s2 and h1 != h2  # same PIN, different salts
    assert AGENT_PIN.encode() not in bytes(h1) + bytes(s1)


def test_verify_pin(kit: Kit) -> None:
    acc = kit.svc.accounts
    assert acc.verify_pin("AG-PKH-01", AGENT_PIN)
    assert not acc.verify_pin("AG-PKH-01", "135791")
    assert not acc.verify_pin("AG-NOBODY", AGENT_PIN)


def test_template_is_sealed_at_rest_and_opens(kit: Kit) -> None:
    raw = kit.conn.execute(
        "SELECT template_sealed FROM agent WHERE agent_id = 'AG-PKH-01'"
    ).fetchone()[0]
    assert TEMPLATE not in bytes(raw)
    assert kit.svc.accounts.template("AG-PKH-01") == TEMPLATE
    assert kit.svc.accounts.template("AG-NOBODY") is None


def test_deactivated_agent_cannot_use_the_pin(kit: Kit) -> None:
    assert kit.svc.accounts.deactivate("AG-PKH-01")
    assert not kit.svc.accounts.verify_pin("AG-PKH-01", AGENT_PIN)
    assert not kit.svc.accounts.deactivate("AG-NOBODY")


def test_duty_list(kit: Kit) -> None:
    kit.svc.accounts.set_on_duty("AG-DW-01", True)
    assert [a.agent_id for a in kit.svc.on_duty()] == ["AG-DW-01"]


def test_roles_and_permissions() -> None:
    assert set(ROLES) == {"pkh", "tksk", "dasa_wisma", "operator"}
    assert Permission.ROSTER in ROLES["dasa_wisma"].permissions
    assert Permission.ROSTER not in ROLES["pkh"].permissions
    assert all(Permission.VOUCH in r.permissions for r in ROLES.values())


def test_replace_re_enrols_and_a_duplicate_is_refused(kit: Kit) -> None:
    with pytest.raises(InputError):
        kit.svc.accounts.enrol("AG-PKH-01", "pkh", "Bu Rina", AGENT_PIN, TEMPLATE)
    kit.svc.accounts.enrol("AG-PKH-01", "tksk", "Bu Rina", "975310", None, replace=True)
    agent = kit.svc.accounts.get("AG-PKH-01")
    assert agent is not None and agent.role == "tksk" and not agent.has_template
    assert kit.svc.accounts.verify_pin("AG-PKH-01", "975310")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("x", "pkh", "A", "135790", TEMPLATE), "agent id"),
        (("AG-3510012345670001", "pkh", "A", "135790", TEMPLATE), "agent id"),
        (("AG-9", "boss", "A", "135790", TEMPLATE), "role"),
        (("AG-9", "pkh", "", "135790", TEMPLATE), "display name"),
        (("AG-9", "pkh", "A", "12345", TEMPLATE), "6 to 12 digits"),
        (("AG-9", "pkh", "A", "12ab56", TEMPLATE), "6 to 12 digits"),
        (("AG-9", "pkh", "A", "111111", TEMPLATE), "too easy"),
        (("AG-9", "pkh", "A", "123456", TEMPLATE), "too easy"),
        (("AG-9", "pkh", "A", "987654", TEMPLATE), "too easy"),
        (("AG-9", "pkh", "A", "135790", b"abc"), "float32"),
    ],
)
def test_bad_enrolment_is_refused(kit: Kit, args: tuple[Any, ...], message: str) -> None:
    with pytest.raises(InputError, match=message):
        kit.svc.accounts.enrol(*args)


def test_normalise_and_pin_rules() -> None:
    assert normalise_agent_id("  ag-1x ") == "AG-1X"
    assert check_pin("20260117") == "20260117"


@pytest.mark.parametrize("params", ["bcrypt:1:2:3", "scrypt:x:8:1", "scrypt:1024"])
def test_unknown_hash_parameters_are_refused(params: str) -> None:
    with pytest.raises(CryptoError):
        hash_pin("135790", b"s" * 16, params)


def test_portal_pushed_accounts(kit: Kit) -> None:
    import base64

    from kiosk.agents.accounts import encode_pin_hash

    pushed = encode_pin_hash("802468", "scrypt:16384:8:1")
    assert AGENT_PIN not in pushed and pushed.startswith("scrypt$16384$8$1$")
    now = kit.clock.now()
    items = [
        {
            "agent_id": "AG-P-01",
            "display_name": "Pak Budi",
            "pin_hash": pushed,
            "valid_until": now + 3600,
            "role": "tksk",
            "face_template": base64.b64encode(TEMPLATE).decode(),
        },
        {
            "agent_id": "AG-P-02",
            "display_name": "Bad",
            "pin_hash": "md5$abc",
            "valid_until": now + 3600,
        },
    ]
    assert kit.svc.apply_agent_roster(2, items) == ["AG-P-01"]
    agent = kit.svc.accounts.get("AG-P-01")
    assert agent is not None and agent.source == "portal" and agent.role == "tksk"
    assert kit.svc.accounts.template("AG-P-01") == TEMPLATE
    assert kit.svc.accounts.verify_pin("AG-P-01", "802468")
    kit.clock.advance(3601)  # expired
    assert not kit.svc.accounts.verify_pin("AG-P-01", "802468")
    assert "AG-P-01" not in [a.agent_id for a in kit.svc.accounts.all()]
    kit.svc.apply_agent_roster(3, [])  # no longer listed: deactivated; provisioning ones stay
    assert [a.agent_id for a in kit.svc.accounts.all()] == ["AG-DW-01", "AG-PKH-01"]


@pytest.mark.parametrize(
    "pin_hash",
    ["scrypt$1024$8$1$AAAAAAAAAAAAAAAAAAAAAA==$" + "A" * 43 + "=", "bcrypt$x", "scrypt$a$b$c$d$e"],
)
def test_weak_or_malformed_pushed_hashes_are_refused(pin_hash: str) -> None:
    from kiosk.agents.accounts import decode_pin_hash

    with pytest.raises(CryptoError):
        decode_pin_hash(pin_hash)


def test_display_names_are_sealed_at_rest(kit: Kit) -> None:
    kit.svc.accounts.enrol("AG-PKH-04", "pkh", "Ibu Siti Rahayu", AGENT_PIN, None)
    kit.svc.accounts.upsert_from_portal("AG-TK-05", "Pak Joko Widodo", _portal_hash(), role="tksk")
    raw = kit.conn.execute("SELECT agent_id, display_name FROM agent").fetchall()
    assert all(isinstance(name, bytes) for _aid, name in raw)
    dump = b"".join(bytes(name) for _aid, name in raw)
    for clear in (b"Rahayu", b"Joko", b"Rina"):
        assert clear not in dump
    assert kit.svc.accounts.get("AG-PKH-04").display_name == "Ibu Siti Rahayu"  # type: ignore[union-attr]
    assert kit.svc.accounts.get("AG-TK-05").display_name == "Pak Joko Widodo"  # type: ignore[union-attr]


def test_names_stored_in_clear_by_an_older_version_are_sealed_at_start(kit: Kit) -> None:
    kit.conn.execute("UPDATE agent SET display_name = 'Bu Rina' WHERE agent_id = 'AG-PKH-01'")
    repo = AgentRepository(kit.conn, AtRestCipher(kit.key), kit.clock)  # the next start
    (stored,) = kit.conn.execute(
        "SELECT display_name FROM agent WHERE agent_id = 'AG-PKH-01'"
    ).fetchone()
    assert isinstance(stored, bytes) and b"Rina" not in stored
    assert repo.get("AG-PKH-01").display_name == "Bu Rina"  # type: ignore[union-attr]


def _portal_hash() -> str:
    from kiosk.agents.accounts import encode_pin_hash

    return encode_pin_hash(AGENT_PIN)
