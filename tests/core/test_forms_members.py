"""household_v2: the member list as a question, its checks, and the answers it implies."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from kiosk.core.forms import (
    AnswerInvalid,
    FormDefinitionError,
    derived_answers,
    load_form,
    missing_questions,
    parse_form,
    summary,
    validate_question,
)
from kiosk.core.members import WG_DOMAINS

TODAY = dt.date(2026, 12, 1)
FORM = load_form("household_v2")


def person(name: str, relation: str, sex: str, age: int, **kw: Any) -> dict[str, Any]:
    d: dict[str, Any] = {
        "name": name,
        "relation": relation,
        "sex": sex,
        "age": str(age),
        "wg": {d: "none" for d in WG_DOMAINS},
        "school": "left",
        "work": "farmer",
        "chronic": "no",
        "pregnant": "no",
    }
    d.update(kw)
    return d


def test_v2_asks_the_member_list_instead_of_typed_counts() -> None:
    ids = [q.id for q in FORM.questions()]
    assert FORM.version_id == "household_v2" and "members" in ids
    for typed in ("members_count", "children_count", "elderly_count", "main_work", "disability"):
        assert typed not in ids, f"{typed} is derived from the list, not asked"
    assert load_form("household_v1").question("members_count") is not None  # v1 unchanged


def test_the_list_is_cleaned_and_the_counts_are_derived() -> None:
    raw = [
        person("Budi", "head", "M", 45, chronic="yes"),
        person("Siti", "wife", "F", 40, wg={d: "none" for d in WG_DOMAINS} | {"seeing": "a_lot"}),
        person("Ani", "child", "F", 9, work=""),
        person("Mbah", "parent", "M", 72),
    ]
    cleaned = validate_question(FORM, "members", raw, {}, TODAY)
    assert [m["age"] for m in cleaned] == [45, 40, 9, 72]
    derived = derived_answers(FORM, {"members": cleaned})
    assert derived == {
        "members_count": 4,
        "children_count": 1,
        "elderly_count": 1,
        "disability_count": 1,
        "disability": True,
        "chronic_illness": True,
        "pregnant": False,
        "main_work": "farmer",
    }


def test_two_heads_are_refused_with_the_reason_in_both_languages() -> None:
    raw = [person("Budi", "head", "M", 45), person("Joko", "head", "M", 50)]
    with pytest.raises(AnswerInvalid) as err:
        validate_question(FORM, "members", raw, {}, TODAY)
    assert err.value.code == "member_problem" and err.value.field == "members"
    assert "only one head of household" in str(err.value) and "Budi" in str(err.value)
    assert err.value.message(lambda msgid: f"<{msgid}>").startswith("<There can be only one")
    assert err.value.params["member"] == 1 and err.value.params["member_field"] == "relation"


def test_an_empty_list_is_missing_and_refused() -> None:
    assert "members" in missing_questions(FORM, {"members": []})
    with pytest.raises(AnswerInvalid, match="No members yet"):
        validate_question(FORM, "members", [], {}, TODAY)


def test_the_review_reads_the_list_back() -> None:
    cleaned = validate_question(FORM, "members", [person("Budi", "head", "M", 45)], {}, TODAY)
    rows = dict(summary(FORM, {"members": cleaned}))
    assert rows["Who is listed on the family card?"] == "Budi (Head of household, 45)"


def test_nothing_may_depend_on_a_member_list() -> None:
    bad = {
        "form_id": "x",
        "version": 1,
        "title": "x",
        "pages": [
            {
                "id": "p",
                "title": "x",
                "questions": [
                    {"id": "members", "kind": "members", "label": "x"},
                    {
                        "id": "q",
                        "kind": "yesno",
                        "label": "y",
                        "show_if": {"question": "members", "any_of": ["yes"]},
                    },
                ],
            }
        ],
    }
    with pytest.raises(FormDefinitionError, match="cannot depend on a members answer"):
        parse_form(bad)
