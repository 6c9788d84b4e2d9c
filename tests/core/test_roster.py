"""Roster model, validation and the field-level conflict rule."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from kiosk.core.roster import (
    Action,
    Household,
    PortalUpdate,
    edit,
    flatten,
    household_from_dict,
    household_to_dict,
    is_identity,
    label,
    merge,
    pending_from_json,
    pending_to_json,
    unflatten,
)
from kiosk.errors import FormError
from kiosk.languages import translator
from tests.fixtures.community import roster_member

KK = "3510011203150001"


def raw(**over: Any) -> dict[str, Any]:
    d: dict[str, Any] = {
        "household_id": "hh-1",
        "kk": KK,
        "cadre_id": "AG-DW-01",
        "address": "RT 01 RW 02",
        "members": [
            roster_member(),
            {
                "member_id": "m2",
                "name": "Budi",
                "relation": "child",
                "sex": "M",
                "birth_year": 1990,
                "work": "labourer",
                "illnesses": [],
            },
        ],
        "crops": ["rice", "cassava"],
        "shocks": [{"code": "harvest_failure", "month": "2026-08"}],
    }
    d.update(over)
    return d


def hh(**over: Any) -> Household:
    return household_from_dict(raw(**over))


def test_round_trip_through_dict_and_paths() -> None:
    h = hh()
    assert household_from_dict(household_to_dict(h)) == h
    assert unflatten("hh-1", flatten(h), ("m1", "m2")) == h
    assert h.crops == ("cassava", "rice")  # normalised order
    assert flatten(h)["members.m1.work"] == "farmer"


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"kk": "123"}, "kk"),
        ({"kk": "0010011203150001"}, "kk"),
        ({"kk": "9999011203150001"}, "kk"),  # unknown district
        ({"kk": "3510013202150001"}, "kk"),  # 32 February
        ({"kk": "35100112031500a1"}, "kk"),
        ({"crops": ["gold"]}, "crops"),
        ({"crops": ["rice", "rice"]}, "crops"),
        ({"shocks": [{"code": "flood", "month": "2026-13"}]}, "shocks"),
        ({"address": "x" * 200}, "address"),
        ({"members": "nobody"}, "members"),
        ({"household_id": "bad id!"}, "household_id"),
        ({"colour": "blue"}, ""),
    ],
)
def test_bad_household_fields_are_refused(over: dict[str, Any], field: str) -> None:
    with pytest.raises(FormError) as err:
        household_from_dict(raw(**over))
    assert err.value.field == field


@pytest.mark.parametrize(
    ("member_over", "field"),
    [
        ({"name": "R2D2"}, "members.m1.name"),
        ({"name": ""}, "members.m1.name"),
        ({"relation": "cousin"}, "members.m1.relation"),
        ({"birth_year": 1800}, "members.m1.birth_year"),
        ({"birth_year": "old"}, "members.m1.birth_year"),
        ({"work": "astronaut"}, "members.m1.work"),
        ({"illnesses": ["flu"]}, "members.m1.illnesses"),
    ],
)
def test_bad_member_fields_are_refused(member_over: dict[str, Any], field: str) -> None:
    d = raw()
    d["members"][0].update(member_over)
    with pytest.raises(FormError) as err:
        household_from_dict(d)
    assert err.value.field == field


def test_too_many_members_and_duplicate_ids_are_refused() -> None:
    d = raw()
    d["members"] = [dict(d["members"][0], member_id=f"m{i}") for i in range(21)]
    with pytest.raises(FormError):
        household_from_dict(d)
    d["members"] = [d["members"][0], d["members"][0]]
    with pytest.raises(FormError):
        household_from_dict(d)


def test_identity_fields() -> None:
    assert is_identity("kk") and is_identity("members.m1.name")
    assert not is_identity("members.m1.work") and not is_identity("crops")


def test_labels_in_both_languages() -> None:
    assert label("crop", "rice", translator("id")) == "Padi" and label("crop", "rice") == "Rice"
    assert label("crop", "unknown", translator("id")) == "unknown"


def test_local_edit_records_changed_fields_only() -> None:
    before = hh()
    after = dataclasses.replace(before, crops=("corn",))
    res = edit(before, after, {}, at=100.0, agent_id="AG-DW-01")
    assert list(res.pending) == ["crops"]
    assert [(c.path, c.action, c.old, c.new) for c in res.changes] == [
        ("crops", Action.EDITED, ["cassava", "rice"], ["corn"])
    ]


def test_local_edit_cannot_move_a_household_to_another_cadre() -> None:
    before = hh()
    with pytest.raises(FormError):
        edit(before, dataclasses.replace(before, cadre_id="AG-X"), {}, 1.0, "AG-DW-01")


def update(h: Household | None, version: int, updated_at: float) -> PortalUpdate:
    return PortalUpdate("hh-1", version, updated_at, h)


def test_portal_update_without_local_edits_is_applied() -> None:
    local = hh()
    portal = dataclasses.replace(local, address="RT 03")
    res = merge(local, 1, {}, update(portal, 2, 500.0), at=600.0)
    assert res.household == portal and res.version == 2 and not res.pending
    assert [(c.path, c.action) for c in res.changes] == [("address", Action.PORTAL_APPLIED)]


def test_stale_update_is_ignored() -> None:
    local = hh()
    res = merge(local, 5, {}, update(dataclasses.replace(local, address="old"), 5, 1.0), 2.0)
    assert res.stale and res.household == local and res.version == 5
    assert res.changes[0].action is Action.STALE_IGNORED


def test_newer_local_edit_wins_over_older_portal_change_and_stays_pending() -> None:
    base = hh()
    mine = dataclasses.replace(base, crops=("corn",))
    pending = edit(base, mine, {}, at=1000.0, agent_id="AG-DW-01").pending
    portal = dataclasses.replace(base, crops=("coffee",), address="RT 09")
    res = merge(mine, 1, pending, update(portal, 2, 900.0), at=1100.0)
    assert res.household is not None
    assert res.household.crops == ("corn",) and res.household.address == "RT 09"
    assert list(res.pending) == ["crops"]
    actions = {c.path: c.action for c in res.changes}
    assert actions == {"crops": Action.CONFLICT_LOCAL_NEWER, "address": Action.PORTAL_APPLIED}


def test_newer_portal_change_wins_and_drops_the_local_edit() -> None:
    base = hh()
    mine = dataclasses.replace(base, crops=("corn",))
    pending = edit(base, mine, {}, at=1000.0, agent_id="AG-DW-01").pending
    portal = dataclasses.replace(base, crops=("coffee",))
    res = merge(mine, 1, pending, update(portal, 2, 1000.0), at=1100.0)  # tie -> portal
    assert res.household is not None and res.household.crops == ("coffee",)
    assert not res.pending
    assert res.changes[0].action is Action.CONFLICT_PORTAL_NEWER


def test_identity_field_always_follows_the_portal() -> None:
    base = hh()
    d = household_to_dict(base)
    d["members"][0]["name"] = "Siti Aminah Binti Ali"
    mine = household_from_dict(d)
    pending = edit(base, mine, {}, at=5000.0, agent_id="AG-DW-01").pending
    d2 = household_to_dict(base)
    d2["members"][0]["name"] = "Siti Aminah S"
    portal = household_from_dict(d2)
    res = merge(mine, 1, pending, update(portal, 2, 10.0), at=6000.0)
    assert res.household is not None and res.household.members[0].name == "Siti Aminah S"
    assert not res.pending
    assert res.changes[0].action is Action.CONFLICT_PORTAL_IDENTITY


def test_member_added_locally_survives_a_portal_update_that_does_not_know_it() -> None:
    base = hh()
    d = household_to_dict(base)
    d["members"].append(
        {
            "member_id": "m3",
            "name": "Ani",
            "relation": "grandchild",
            "sex": "F",
            "birth_year": 2015,
            "work": "student",
            "illnesses": [],
        }
    )
    mine = household_from_dict(d)
    pending = edit(base, mine, {}, at=10.0, agent_id="AG-DW-01").pending
    res = merge(mine, 1, pending, update(base, 2, 500.0), at=600.0)
    assert res.household is not None
    assert [m.member_id for m in res.household.members] == ["m1", "m2", "m3"]
    assert "members.m3.name" in res.pending


def test_confirmed_edit_leaves_pending() -> None:
    base = hh()
    mine = dataclasses.replace(base, crops=("corn",))
    pending = edit(base, mine, {}, at=10.0, agent_id="AG-DW-01").pending
    res = merge(mine, 1, pending, update(mine, 2, 20.0), at=30.0)
    assert not res.pending and res.changes[0].action is Action.CONFIRMED


def test_portal_removes_a_member_and_a_household() -> None:
    local = hh()
    portal = dataclasses.replace(local, members=local.members[:1])
    res = merge(local, 1, {}, update(portal, 2, 1.0), at=2.0)
    assert res.household is not None and len(res.household.members) == 1
    gone = merge(local, 1, {}, update(None, 3, 1.0), at=2.0)
    assert gone.household is None and gone.changes[0].action is Action.REMOVED


def test_new_household_from_the_portal_is_added() -> None:
    res = merge(None, 0, {}, update(hh(), 1, 1.0), at=2.0)
    assert res.household == hh() and res.changes[0].action is Action.ADDED


def test_update_body_must_match_its_id() -> None:
    with pytest.raises(FormError):
        merge(None, 0, {}, PortalUpdate("hh-2", 1, 1.0, hh()), at=2.0)


def test_pending_json_round_trip() -> None:
    base = hh()
    pending = edit(base, dataclasses.replace(base, crops=()), {}, 1.0, "AG-DW-01").pending
    assert pending_from_json(pending_to_json(pending)) == pending
