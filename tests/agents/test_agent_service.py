"""Assisted and vouched registrations, help requests, rosters and the audit log."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from kiosk.core.roster import Action
from kiosk.core.session import Outcome, State
from kiosk.core.upkeep import RosterPolicy
from kiosk.errors import AgentAuthError, FlowError, FormError, InputError
from kiosk.vision.fake import face
from tests.agents.conftest import AGENT_PIN, JPEG, Kit
from tests.fixtures.community import roster_member

NIK = "3510014501580001"
KK = "3510011203150001"


def failed_three_times(kit: Kit) -> str:
    reg_token = kit.reg.start()
    kit.reg.identify(reg_token, NIK)
    for _ in range(3):
        kit.reg.check_face(reg_token)
    assert kit.reg.view(reg_token).state is State.NEEDS_AGENT
    return reg_token


def finish(kit: Kit, reg_token: str) -> str:
    kit.reg.household(reg_token, {"q": 1})
    kit.reg.consent(reg_token, True)
    return kit.reg.submit(reg_token)


# --- assisted ------------------------------------------------------------------------------
def test_assisted_registration_records_the_agent(kit: Kit) -> None:
    kit.verifier.default = face(Outcome.PENDING)
    token = kit.svc.login("AG-PKH-01", AGENT_PIN)
    reg_token = kit.svc.start_assisted(token)
    kit.reg.identify(reg_token, NIK)
    kit.reg.check_face(reg_token)
    finish(kit, reg_token)
    assert kit.outbox("registration")[0]["verification"]["assisted_by"] == "AG-PKH-01"
    row = kit.conn.execute("SELECT assisted_by FROM registration").fetchone()
    assert row[0] == "AG-PKH-01"
    assert "assisted_start" in kit.audit_kinds()


def test_assist_needs_a_logged_in_agent(kit: Kit) -> None:
    with pytest.raises(AgentAuthError):
        kit.svc.start_assisted("nobody")


# --- vouch ---------------------------------------------------------------------------------
def test_vouch_after_three_failed_checks(kit: Kit) -> None:
    token = kit.svc.login("AG-PKH-01", AGENT_PIN)
    reg_token = failed_three_times(kit)
    vouch_id = kit.svc.vouch(token, reg_token, "elderly")
    reg = kit.reg.view(reg_token)
    assert reg.state is State.HOUSEHOLD and reg.outcome is Outcome.VOUCHED
    assert reg.assisted_by == "AG-PKH-01"
    [record] = kit.outbox("vouch")
    assert record["vouch_id"] == vouch_id and record["reason"] == "elderly"
    assert record["agent_match_band"] == "HIGH" and record["review_required"] is True
    assert record["nik"] == NIK and record["face_attempts"] == 3
    assert record["photo_jpeg"]
    last = kit.svc.audit.entries()[-1]
    assert (last.kind, last.actor, last.subject) == ("vouch", "AG-PKH-01", vouch_id)
    finish(kit, reg_token)
    assert kit.outbox("registration")[0]["verification"]["outcome"] == "vouched"


def test_vouch_refused_when_the_agents_face_fails(kit: Kit) -> None:
    token = kit.svc.login("AG-PKH-01", AGENT_PIN)
    reg_token = failed_three_times(kit)
    kit.matcher.default = "LOW"
    with pytest.raises(AgentAuthError):
        kit.svc.vouch(token, reg_token, "elderly")
    assert kit.outbox("vouch") == []
    # no row of any kind, and the relay was not woken
    assert kit.conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0] == 0 and kit.wakes == []
    assert kit.reg.view(reg_token).state is State.NEEDS_AGENT
    assert kit.reg.view(reg_token).outcome is not Outcome.VOUCHED
    assert kit.audit_kinds()[-1] == "vouch_refused"


@pytest.mark.parametrize(
    ("reason", "photo", "error"),
    [
        ("bribe", JPEG, ValueError),
        ("elderly", b"", InputError),
        ("elderly", b"GIF89a", InputError),
        ("elderly", b"\xff\xd8" + b"0" * (3 * 1024 * 1024), InputError),
    ],
)
def test_vouch_bad_input(kit: Kit, reason: str, photo: bytes, error: type[Exception]) -> None:
    token = kit.svc.login("AG-PKH-01", AGENT_PIN)
    reg_token = failed_three_times(kit)
    with pytest.raises(error):
        kit.svc.vouch(token, reg_token, reason, photo=photo)
    assert kit.outbox("vouch") == []


def test_vouch_only_after_failed_checks(kit: Kit) -> None:
    token = kit.svc.login("AG-PKH-01", AGENT_PIN)
    reg_token = kit.reg.start()
    with pytest.raises(FlowError):
        kit.svc.vouch(token, reg_token, "elderly")


# --- help ----------------------------------------------------------------------------------
def test_help_requests_merge_and_close(kit: Kit) -> None:
    called: list[Any] = []
    kit.svc._on_help = called.append
    first = kit.svc.request_help("button")
    again = kit.svc.request_help("button")
    kit.svc.request_help("screen")
    assert first == again and len(called) == 2
    assert [h.source for h in kit.svc.pending_help()] == ["button", "screen"]
    token = kit.svc.login("AG-DW-01", "246801")
    kit.svc.take_help(token, first.request_id)
    assert kit.svc.cancel_help("screen") == 1
    assert kit.svc.pending_help() == []
    with pytest.raises(InputError):
        kit.svc.take_help(token, first.request_id)
    with pytest.raises(InputError):
        kit.svc.request_help("telepathy")
    kinds = kit.audit_kinds()
    assert kinds.count("help_requested") == 2 and "help_taken" in kinds


# --- roster --------------------------------------------------------------------------------
def household(**over: Any) -> dict[str, Any]:
    d: dict[str, Any] = {
        "kk": KK,
        "address": "RT 01 RW 02",
        "members": [
            roster_member(),
        ],
        "crops": ["rice"],
        "shocks": [{"code": "harvest_failure", "month": "2026-08"}],
    }
    d.update(over)
    return d


def test_cadre_adds_and_edits_a_household_offline(kit: Kit) -> None:
    token = kit.svc.login("AG-DW-01", "246801")
    h = kit.svc.save_household(token, household())
    assert h.cadre_id == "AG-DW-01"
    kit.clock.advance(60)
    kit.svc.save_household(
        token, dict(household(crops=["rice", "corn"]), household_id=h.household_id)
    )
    [stored] = kit.svc.my_roster(token)
    assert stored.household.crops == ("corn", "rice")
    assert set(stored.pending) >= {"crops", "kk"}
    records = kit.outbox("household")
    assert len(records) == 2 and records[1]["household"]["crops"] == ["corn", "rice"]
    history = kit.svc.roster_history(token, h.household_id)
    assert history[0].action is Action.ADDED
    assert [c.new for c in history if c.path == "crops"] == [["rice"], ["corn", "rice"]]
    assert kit.audit_kinds().count("roster_edit") == 2
    # at rest: the KK and names are sealed, only a keyed hash is queryable
    dump = "\n".join(kit.conn.iterdump())
    assert KK not in dump and "Siti" not in dump


def test_roster_needs_the_dasa_wisma_role(kit: Kit) -> None:
    token = kit.svc.login("AG-PKH-01", AGENT_PIN)
    with pytest.raises(AgentAuthError):
        kit.svc.save_household(token, household())


def test_roster_rules(kit: Kit) -> None:
    token = kit.svc.login("AG-DW-01", "246801")
    kit.svc.save_household(token, household())
    with pytest.raises(FormError):
        kit.svc.save_household(token, household())  # same KK twice
    with pytest.raises(FormError):
        kit.svc.save_household(token, household(kk="12"))
    for i in range(9):  # the default cap: 10 households
        kit.svc.save_household(token, household(kk=f"35100112031500{i + 10}"))
    with pytest.raises(FormError, match="at most 10") as refused:
        kit.svc.save_household(token, household(kk="3510011203150099"))
    assert refused.value.field == "roster_cap"
    kit.svc.roster_policy = RosterPolicy(cap=11)  # the [agents] roster_cap setting
    kit.svc.save_household(token, household(kk="3510011203150099"))
    assert len(kit.svc.my_roster(token)) == 11
    with pytest.raises(InputError):
        kit.svc.household(token, "not-mine")


def test_portal_update_conflicts_follow_the_rule(kit: Kit) -> None:
    token = kit.svc.login("AG-DW-01", "246801")
    h = kit.svc.save_household(token, household())
    hid = h.household_id
    base = dict(household(), household_id=hid, cadre_id="AG-DW-01")
    # the portal confirms the household as version 1
    kit.svc.apply_roster_update(
        {"household_id": hid, "version": 1, "updated_at": kit.clock.now(), "household": base}
    )
    assert kit.svc.household(token, hid).pending == {}
    kit.clock.advance(100)
    kit.svc.save_household(token, dict(base, crops=["corn"], address="RT 05"))
    # portal v2 changed crops earlier than our edit and the head's name (identity)
    portal = dict(base, crops=["coffee"], address="RT 07")
    portal["members"] = [dict(base["members"][0], name="Siti Aminah Binti Ali")]
    result = kit.svc.apply_roster_update(
        {"household_id": hid, "version": 2, "updated_at": kit.clock.now() - 50, "household": portal}
    )
    stored = kit.svc.household(token, hid)
    assert stored.household.crops == ("corn",)  # our newer edit wins
    assert stored.household.address == "RT 05"
    assert stored.household.members[0].name == "Siti Aminah Binti Ali"  # identity: portal
    assert stored.version == 2 and set(stored.pending) == {"address", "crops"}
    assert {c.action for c in result.changes} >= {Action.CONFLICT_LOCAL_NEWER}
    assert kit.outbox("household")[-1]["base_version"] == 2  # kept edits are re-sent
    assert kit.audit_kinds()[-1] == "roster_conflict"
    stale = kit.svc.apply_roster_update(
        {"household_id": hid, "version": 2, "updated_at": 0, "household": base}
    )
    assert stale.stale
    kit.svc.apply_roster_update(
        {"household_id": hid, "version": 3, "updated_at": 0, "household": None}
    )
    assert kit.svc.my_roster(token) == []


@pytest.mark.parametrize(
    "message",
    [
        {"version": 1, "updated_at": 1, "household": None},
        {"household_id": "h", "version": 0, "updated_at": 1, "household": None},
        {"household_id": "h", "version": True, "updated_at": 1, "household": None},
        {"household_id": "h", "version": 1, "updated_at": "now", "household": None},
        {"household_id": "h", "version": 1, "updated_at": 1, "household": {"kk": "1"}},
    ],
)
def test_bad_portal_roster_messages_are_refused(kit: Kit, message: dict[str, Any]) -> None:
    with pytest.raises(FormError):
        kit.svc.apply_roster_update(message)


# --- audit ---------------------------------------------------------------------------------
def test_audit_table_refuses_update_and_delete(kit: Kit) -> None:
    kit.svc.login("AG-PKH-01", AGENT_PIN)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        kit.conn.execute("UPDATE audit_log SET actor = 'AG-X' WHERE seq = 1")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        kit.conn.execute("DELETE FROM audit_log")
    assert kit.svc.verify_audit().ok


def test_tampering_past_the_triggers_is_detected(kit: Kit) -> None:
    kit.svc.login("AG-PKH-01", AGENT_PIN)
    kit.svc.request_help("button")
    assert kit.svc.verify_audit().ok
    kit.conn.execute("DROP TRIGGER audit_log_no_update")
    kit.conn.execute("UPDATE audit_log SET actor = 'AG-DW-01' WHERE seq = 1")
    report = kit.svc.verify_audit()
    assert not report.ok and report.bad_seq == 1


def test_audit_batches_go_to_the_outbox_and_truncation_is_detected(kit: Kit) -> None:
    kit.svc.login("AG-PKH-01", AGENT_PIN)
    batch = kit.svc.flush_audit()
    assert batch is not None and kit.svc.flush_audit() is None
    [record] = kit.outbox("audit")
    assert [e[2] for e in record["entries"]] == ["agent_login_ok", "agent_duty_on"]
    assert record["head_hash"] == kit.svc.audit.entries()[-1].hash
    assert NIK not in str(record)
    kit.conn.execute("DROP TRIGGER audit_log_no_delete")
    kit.conn.execute("DELETE FROM audit_log WHERE seq = 2")
    report = kit.svc.verify_audit()
    assert not report.ok and report.bad_seq == 2


def test_help_caller_adapts_the_ui_port(kit: Kit) -> None:
    from kiosk.agents import HelpCaller

    caller = HelpCaller(kit.svc)
    caller.call("button")
    caller.call("face")
    assert sorted(h.source for h in kit.svc.pending_help()) == ["face", "screen"]
    kit.conn.execute("DROP TABLE help_request")
    caller.call("button")  # a storage failure never reaches the person


def test_signed_household_updates(kit: Kit) -> None:
    import json

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from kiosk.agents.downlink import HouseholdUpdateHandler, sign_update

    key, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    handler = HouseholdUpdateHandler(kit.svc, lambda: [key.public_key()])
    body = dict(household(), household_id="hh-9", cadre_id="AG-DW-01")
    message = {"household_id": "hh-9", "version": 1, "updated_at": 1.0, "household": body}
    good = sign_update(message, key)
    assert not handler(sign_update(message, other))  # unknown key
    tampered = json.loads(good)
    tampered["version"] = 7
    assert not handler(json.dumps(tampered).encode())  # signature no longer verifies
    assert not handler(b"{not json")
    assert not handler(b"x" * (65 * 1024))
    assert handler.rejected == 4
    assert handler(good)
    stored = kit.svc.roster.get("hh-9")
    assert stored is not None and stored.version == 1 and stored.household.kk == KK


def test_a_help_request_closes_when_an_agent_vouches(kit: Kit) -> None:
    reg_token = failed_three_times(kit)
    asked = kit.svc.request_help("face")
    kit.svc.request_help("button")
    token = kit.svc.login("AG-PKH-01", AGENT_PIN)
    kit.svc.vouch(token, reg_token, "elderly")
    assert kit.svc.pending_help() == []
    state, taken_by = kit.conn.execute(
        "SELECT state, taken_by FROM help_request WHERE request_id = ?", (asked.request_id,)
    ).fetchone()
    assert (state, taken_by) == ("taken", "AG-PKH-01")
    assert kit.audit_kinds().count("help_taken") == 2


def test_a_help_request_closes_when_an_agent_assists(kit: Kit) -> None:
    kit.svc.request_help("screen")
    token = kit.svc.login("AG-PKH-01", AGENT_PIN)
    kit.svc.start_assisted(token)
    assert kit.svc.pending_help() == []


def test_the_help_alert_sounds_for_every_new_request(kit: Kit) -> None:
    assert not kit.svc.help_alert
    rang: list[str] = []
    kit.svc.set_help_alert(lambda req: rang.append(req.source))
    assert kit.svc.help_alert
    kit.svc.request_help("screen")
    kit.svc.request_help("screen")  # merged: no second alarm
    assert rang == ["screen"]


def test_upkeep_lists_due_households_their_last_change_and_registration(kit: Kit) -> None:
    token = kit.svc.login("AG-DW-01", "246801")
    kit.svc.save_household(token, household())
    other = kit.svc.save_household(token, household(kk="3510011203150002"))
    kit.clock.advance(10 * 86400)
    token = kit.svc.login("AG-DW-01", "246801")  # a new visit, ten days on
    changed = household(kk="3510011203150002", crops=["corn", "rice"])
    kit.svc.save_household(token, dict(changed, household_id=other.household_id))
    kit.clock.advance(25 * 86400)  # 35 days after the first, 25 after the change
    token = kit.svc.login("AG-DW-01", "246801")
    rows = kit.svc.upkeep(token)
    assert [(r.household.kk, r.due, r.days_since, r.registered) for r in rows] == [
        (KK, True, 35, False),
        ("3510011203150002", False, 25, False),
    ]
    last = rows[1].last_change
    assert last is not None and last.kinds == ("crops",) and last.items[0].added == ("corn",)
    # the family registers at the kiosk: it counts as updated, and is no longer "unregistered"
    kit.verifier.default = face(Outcome.VERIFIED)
    reg_token = kit.reg.start()
    kit.reg.identify(reg_token, NIK)
    kit.reg.check_face(reg_token)
    kit.reg.household(reg_token, {"kk_number": KK})
    kit.reg.consent(reg_token, True)
    kit.reg.submit(reg_token)
    registered = {r.household.kk: (r.registered, r.due) for r in kit.svc.upkeep(token)}
    assert registered[KK] == (True, False)
