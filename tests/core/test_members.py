"""Household members: one entry, the list's consistency, the counts it implies."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from kiosk.core import members as m

TODAY = dt.date(2026, 12, 1)
NO_DIFFICULTY = {d: "none" for d in m.WG_DOMAINS}


def nik(day: int, month: int, yy: int, sex: str = "M", serial: int = 1) -> str:
    """A valid NIK of Pesanggaran (Banyuwangi) for this birth date and sex."""
    field = day + (40 if sex == "F" else 0)
    return f"351001{field:02d}{month:02d}{yy:02d}{serial:04d}"


def entry(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "Siti Aminah",
        "relation": "head",
        "sex": "F",
        "age": "45",
        "wg": dict(NO_DIFFICULTY),
        "school": "left",
        "work": "farmer",
        "chronic": "no",
        "pregnant": "no",
    }
    base.update(kw)
    return base


def member(**kw: Any) -> m.Member:
    got, problems = m.check_member(entry(**kw), TODAY)
    assert got is not None, [p.code for p in problems]
    return got


def codes(problems: list[m.MemberProblem]) -> list[str]:
    return [p.code for p in problems]


def test_a_complete_entry_without_nik_is_kept_as_typed() -> None:
    got = member()
    assert (got.name, got.relation, got.sex, got.age, got.nik) == (
        "Siti Aminah",
        "head",
        "F",
        45,
        None,
    )
    assert got.to_dict()["wg"] == NO_DIFFICULTY and not got.disability


def test_sex_and_age_come_from_the_nik_and_are_not_typed_twice() -> None:
    got = member(nik=nik(5, 7, 85, "F"), sex="", age="")
    assert (got.sex, got.age, got.birth_date) == ("F", 41, dt.date(1985, 7, 5))


def test_a_typed_age_or_sex_that_contradicts_the_nik_is_refused_on_its_field() -> None:
    _, problems = m.check_member(entry(nik=nik(5, 7, 85, "F"), sex="M", age="30"), TODAY)
    assert {(p.code, p.field) for p in problems} == {("age_not_nik", "age"), ("sex_not_nik", "sex")}
    assert "41" in next(p for p in problems if p.code == "age_not_nik").message()
    sex = next(p for p in problems if p.code == "sex_not_nik")
    assert "is female" in sex.message()


def test_an_ambiguous_nik_century_is_settled_by_the_typed_age() -> None:
    # born 2020 or 1920: the age typed picks one
    assert member(nik=nik(1, 1, 20), sex="", age="106").birth_date == dt.date(1920, 1, 1)
    assert member(nik=nik(1, 1, 20), sex="", age="6").birth_date == dt.date(2020, 1, 1)
    _, problems = m.check_member(entry(nik=nik(1, 1, 20), sex="", age=""), TODAY)
    assert codes(problems) == ["age_missing"]


def test_a_bad_nik_gives_the_nik_module_s_reason() -> None:
    _, problems = m.check_member(entry(nik="3510014507850000"), TODAY)
    assert codes(problems) == ["nik_invalid"] and problems[0].field == "nik"
    assert "0000" in problems[0].message()


@pytest.mark.parametrize(
    ("change", "code", "where"),
    [
        ({"name": " "}, "name_missing", "name"),
        ({"name": "Budi 2"}, "name_invalid", "name"),
        ({"relation": ""}, "relation_missing", "relation"),
        ({"relation": "boss"}, "not_a_choice", "relation"),
        ({"sex": ""}, "sex_missing", "sex"),
        ({"age": ""}, "age_missing", "age"),
        ({"age": "111"}, "age_invalid", "age"),
        ({"age": "-3"}, "age_invalid", "age"),
        ({"wg": {**NO_DIFFICULTY, "seeing": ""}}, "wg_missing", "wg"),
        ({"wg": {**NO_DIFFICULTY, "seeing": "blind"}}, "not_a_choice", "wg"),
        ({"school": ""}, "school_missing", "school"),
        ({"work": ""}, "work_missing", "work"),
        ({"chronic": ""}, "chronic_missing", "chronic"),
        ({"pregnant": "maybe"}, "not_a_choice", "pregnant"),
    ],
)
def test_each_missing_or_wrong_field_is_named(
    change: dict[str, Any], code: str, where: str
) -> None:
    got, problems = m.check_member(entry(**change), TODAY, index=2)
    assert got is None
    assert [(p.code, p.field, p.index) for p in problems] == [(code, where, 2)]
    assert problems[0].message()
    assert problems[0].message(lambda msgid: f"<{msgid}>").startswith("<"), "translated"


def test_wg_answers_may_come_as_form_fields() -> None:
    raw = entry(wg=None, **{f"wg_{d}": "none" for d in m.WG_DOMAINS})
    raw["wg_walking"] = "cannot"
    got, _ = m.check_member(raw, TODAY)
    assert got is not None and got.wg["walking"] == "cannot" and got.disability


def test_young_children_are_not_asked_the_wg_set_or_work() -> None:
    got = member(relation="child", age="3", wg={}, work="", school="not_yet")
    assert got.wg == {} and got.work == "not_working"
    got = member(relation="child", age="8", work="")
    assert got.work == "not_working" and got.wg == NO_DIFFICULTY


def test_wg_disability_is_the_groups_cut_off_a_lot_or_cannot() -> None:
    assert not member(wg={**NO_DIFFICULTY, "hearing": "some"}).disability
    assert member(wg={**NO_DIFFICULTY, "hearing": "a_lot"}).disability


def family() -> list[m.Member]:
    return [
        member(name="Budi", relation="head", sex="M", age="45"),
        member(name="Siti", relation="wife", sex="F", age="40"),
        member(name="Ani", relation="child", sex="F", age="12", work="not_working"),
        member(name="Mbah Sri", relation="parent", sex="F", age="70"),
    ]


def test_a_plausible_family_has_no_problems_and_gives_its_counts() -> None:
    people = family()
    assert m.check_household(people) == []
    counts = m.derived_counts(people)
    assert counts == {
        "members_count": 4,
        "children_count": 1,
        "elderly_count": 1,
        "disability_count": 0,
        "disability": False,
        "chronic_illness": False,
        "pregnant": False,
        "main_work": "farmer",
    }


def test_two_heads_are_refused_on_the_second_with_the_first_s_name() -> None:
    people = [*family(), member(name="Joko", relation="head", sex="M", age="50")]
    problems = m.check_household(people)
    assert [(p.code, p.index, p.field) for p in problems] == [("two_heads", 4, "relation")]
    assert "Budi" in problems[0].message() and "only one head" in problems[0].message()


def test_no_head_and_an_empty_list_are_refused() -> None:
    assert codes(m.check_household([])) == ["no_members"]
    assert codes(m.check_household(family()[1:])) == ["no_head"]


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        ({"relation": "child", "age": "40"}, "child_too_old"),
        ({"relation": "grandchild", "age": "25"}, "grandchild_too_old"),
        ({"relation": "parent", "sex": "M", "age": "50"}, "parent_too_young"),
        ({"relation": "parent_in_law", "age": "45"}, "parent_in_law_too_young"),
        ({"relation": "wife", "age": "14", "work": "not_working"}, "spouse_too_young"),
        ({"relation": "husband", "sex": "M", "age": "30"}, None),
        ({"relation": "wife", "sex": "M", "age": "30"}, "wife_not_female"),
    ],
)
def test_ages_and_sexes_are_checked_against_relations(
    extra: dict[str, Any], code: str | None
) -> None:
    base = [
        member(name="Sri", relation="head", sex="F", age="45"),
        member(name="Ani", relation="child", sex="F", age="20"),
    ]
    problems = m.check_household([*base, member(name="Tono", **extra)])
    assert codes(problems) == ([code] if code else [])
    assert all(p.index == 2 for p in problems)


def test_a_child_may_be_the_spouse_s_when_the_head_is_younger() -> None:
    people = [
        member(name="Budi", relation="head", sex="M", age="30"),
        member(name="Siti", relation="wife", sex="F", age="45"),
        member(name="Rudi", relation="child", sex="M", age="25"),
    ]
    assert m.check_household(people) == []


def test_a_second_husband_and_a_young_head_are_refused() -> None:
    people = [
        member(name="Sri", relation="head", sex="F", age="14", work="not_working"),
        member(name="Adi", relation="husband", sex="M", age="30"),
        member(name="Edi", relation="husband", sex="M", age="31"),
    ]
    assert codes(m.check_household(people)) == ["two_husbands", "head_too_young"]


def test_the_same_nik_twice_is_refused_on_the_later_member() -> None:
    same = nik(5, 7, 85, "M")
    people = [
        member(name="Budi", nik=same, sex="", age=""),
        member(name="Bud", relation="child", nik=same, sex="", age=""),
    ]
    problems = [p for p in m.check_household(people) if p.code == "nik_twice"]
    assert [(p.index, p.params["name"]) for p in problems] == [(1, "Budi")]


def test_stored_members_round_trip_and_check_again() -> None:
    got = member(nik=nik(5, 7, 85, "F"), sex="", age="")
    assert m.member_from_dict(got.to_dict()) == got
    for kept in (got, member(pregnant="yes", chronic="yes")):
        again, problems = m.check_member(kept.to_dict(), TODAY)
        assert again == kept, problems


def test_pregnancy_is_asked_of_women_of_child_bearing_age_only() -> None:
    assert member(pregnant="yes").pregnant
    assert not member(sex="M", pregnant="").pregnant
    assert not member(age="60", pregnant="").pregnant
    assert m.derived_counts([member(pregnant="yes", chronic="yes")])["pregnant"] is True


def test_the_first_screen_s_problems_leave_out_the_second_screen_s() -> None:
    _, problems = m.check_member(entry(wg={}, pregnant="", name=""), TODAY)
    assert {p.field for p in problems} == {"name", "wg", "pregnant"}
    assert [p.field for p in m.person_problems(problems)] == ["name"]
