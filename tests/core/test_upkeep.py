"""Dasa Wisma upkeep: households due a visit, what changed last time, unregistered ones."""

from __future__ import annotations

from typing import Any

import pytest

from kiosk.core import roster as rules
from kiosk.core import upkeep

DAY = upkeep.DAY_S
T0 = 1_780_000_000.0
KK_A = "3510011501200003"
KK_B = "3510011501200004"


def household(hid: str, kk: str, **kw: Any) -> rules.Household:
    body: dict[str, Any] = {
        "household_id": hid,
        "kk": kk,
        "cadre_id": "dw1",
        "members": [
            {"member_id": "m1", "name": "Budi", "relation": "head", "sex": "M", "birth_year": 1970}
        ],
    }
    body.update(kw)
    return rules.household_from_dict(body)


def history_of(*steps: tuple[rules.Household, float]) -> list[rules.Change]:
    """The roster history of successive saves of one household by cadre dw1."""
    out: list[rules.Change] = []
    current = None
    for h, at in steps:
        out += rules.edit(current, h, {}, at, "dw1").changes
        current = h
    return out


def test_the_last_change_names_illness_crops_and_work_with_what_was_added() -> None:
    first = household("h1", KK_A, crops=["rice"])
    later = household(
        "h1",
        KK_A,
        crops=["corn", "rice"],
        members=[
            {
                "member_id": "m1",
                "name": "Budi",
                "relation": "head",
                "sex": "M",
                "birth_year": 1970,
                "work": "labourer",
                "illnesses": ["tuberculosis"],
            }
        ],
    )
    changes = history_of((first, T0), (later, T0 + 5 * DAY))
    last = upkeep.last_change(later, changes)
    assert last is not None and last.at == T0 + 5 * DAY and last.agent_id == "dw1"
    assert last.kinds == ("illness", "crops", "work")
    by_kind = {i.kind: i for i in last.items}
    assert by_kind["illness"].member == "Budi" and by_kind["illness"].added == ("tuberculosis",)
    assert by_kind["crops"].added == ("corn",) and by_kind["crops"].member is None
    assert (by_kind["work"].old, by_kind["work"].new) == ("none", "labourer")


def test_a_household_only_added_has_no_last_change() -> None:
    h = household("h1", KK_A)
    assert upkeep.last_change(h, history_of((h, T0))) is None


def test_households_not_updated_for_n_days_come_first_oldest_first() -> None:
    old, recent, older = (
        household("h1", KK_A),
        household("h2", KK_B),
        household("h3", "3510011501200005"),
    )
    histories = {
        "h1": history_of((old, T0)),
        "h2": history_of((recent, T0 + 25 * DAY)),
        "h3": history_of((older, T0 - 10 * DAY)),
    }
    rows = upkeep.upkeep_list(
        [(old, T0), (recent, T0 + 25 * DAY), (older, T0 - 10 * DAY)],
        lambda hid: histories[hid],
        lambda kk: None,
        now=T0 + 30 * DAY,
        due_after_days=30,
    )
    assert [(r.household.household_id, r.days_since, r.due) for r in rows] == [
        ("h3", 40, True),
        ("h1", 30, True),
        ("h2", 5, False),
    ]
    assert not any(r.registered for r in rows)


def test_a_registration_of_the_family_counts_as_an_update() -> None:
    h = household("h1", KK_A)
    rows = upkeep.upkeep_list(
        [(h, T0)],
        lambda hid: history_of((h, T0)),
        lambda kk: T0 + 20 * DAY if kk == KK_A else None,
        now=T0 + 31 * DAY,
        due_after_days=30,
    )
    assert rows[0].registered and rows[0].days_since == 11 and not rows[0].due


def test_the_cap_is_reached_at_the_setting_default_10_at_most_30() -> None:
    assert upkeep.RosterPolicy().cap == 10
    assert not upkeep.RosterPolicy().full(9) and upkeep.RosterPolicy().full(10)
    assert not upkeep.RosterPolicy(cap=30).full(29) and upkeep.RosterPolicy(cap=30).full(30)
    for bad in ({"cap": 31}, {"cap": 0}, {"due_after_days": 0}):
        with pytest.raises(ValueError):
            upkeep.RosterPolicy(**bad)


def test_a_removed_member_keeps_their_name_in_the_last_change() -> None:
    two = household(
        "h1",
        KK_A,
        members=[
            {"member_id": "m1", "name": "Budi", "relation": "head", "sex": "M", "birth_year": 1970},
            {"member_id": "m2", "name": "Ani", "relation": "child", "sex": "F", "birth_year": 2001},
        ],
    )
    one = household("h1", KK_A)
    last = upkeep.last_change(one, history_of((two, T0), (one, T0 + DAY)))
    assert last is not None and last.kinds == ("people",)
    assert [(i.member, i.removed, i.added) for i in last.items] == [("Ani", ("Ani",), ())]
