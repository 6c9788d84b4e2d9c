"""Grouped screens (``one_screen`` pages): declared in the definition, checked at load, and
their answers validated together, each failure on the field it concerns."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kiosk.core.forms import FormDefinitionError, check_questions, load_form, parse_form

FORM = load_form("household_v1")  # the counts and grouped screens are v1's

COUNTS: dict[str, Any] = {
    "form_id": "t",
    "version": 1,
    "title": "T",
    "pages": [
        {
            "id": "counts",
            "title": "Members",
            "one_screen": True,
            "questions": [
                {
                    "id": "people",
                    "kind": "integer",
                    "label": "People",
                    "min": 1,
                    "max": 30,
                },
                {
                    "id": "kids",
                    "kind": "integer",
                    "label": "Kids",
                    "min": 0,
                    "max": 20,
                    "part_of": "people",
                },
                {"id": "sick", "kind": "yesno", "label": "Ill?"},
            ],
        },
        {
            "id": "work",
            "title": "Work",
            "questions": [
                {
                    "id": "job",
                    "kind": "single",
                    "label": "Job?",
                    "options": [
                        {"code": "a", "icon": "a", "label": "A"},
                        {"code": "b", "icon": "b", "label": "B"},
                    ],
                },
            ],
        },
    ],
}


def test_a_one_screen_page_is_one_screen_and_others_one_question_each() -> None:
    form = parse_form(COUNTS)
    assert [[q.id for q in qs] for _, qs in form.screens()] == [["people", "kids", "sick"], ["job"]]


def test_the_shipped_form_groups_the_counts_and_the_yes_no_health_questions() -> None:
    groups = [[q.id for q in qs] for _, qs in FORM.screens()]
    assert ["members_count", "children_count", "elderly_count"] in groups
    assert ["pregnant", "disability", "chronic_illness"] in groups
    assert ["disability_kinds"] in groups  # the follow-up keeps a screen of its own
    assert len(groups) == 17


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda d: d["pages"][1].update(one_screen=True), "one_screen page holds only"),
        (lambda d: d["pages"][0].update(one_screen="yes"), "one_screen: must be true or false"),
        (
            lambda d: d["pages"][0]["questions"][2].update(
                show_if={"question": "people", "at_least": 3}
            ),
            "same one_screen page",
        ),
    ],
)
def test_a_bad_grouping_is_refused_at_load(change: Any, problem: str) -> None:
    data = copy.deepcopy(COUNTS)
    change(data)
    with pytest.raises(FormDefinitionError) as err:
        parse_form(data)
    assert any(problem in p for p in err.value.problems), err.value.problems


def test_a_grouped_screen_is_validated_together_with_the_error_by_its_field() -> None:
    form = parse_form(COUNTS)
    qs = form.pages[0].questions
    cleaned, errors = check_questions(form, qs, {"people": "3", "kids": "5", "sick": "no"})
    assert set(errors) == {"kids"} and errors["kids"].code == "exceeds_total"
    assert cleaned == {"people": 3, "sick": False}  # the other answers of the screen are kept
    cleaned, errors = check_questions(form, qs, {"people": "", "kids": "1", "sick": "yes"})
    assert set(errors) == {"people"} and errors["people"].code == "required"


def test_lowering_a_total_and_its_parts_together_is_accepted() -> None:
    """The screen's new answers replace the old ones: 6 people with 4 children becomes 2 and
    1 in one submission (checked against the stale 4 children, "2 people" would be refused)."""
    form = parse_form(COUNTS)
    before = {"people": 6, "kids": 4, "sick": True}
    cleaned, errors = check_questions(
        form, form.pages[0].questions, {"people": "2", "kids": "1", "sick": "yes"}, before
    )
    assert errors == {} and cleaned == {"people": 2, "kids": 1, "sick": True}


def test_shipped_counts_children_and_elderly_together_exceeding_people_fail_on_the_last() -> None:
    page = FORM.page("members")
    assert page is not None and page.one_screen
    raw = {"members_count": "3", "children_count": "2", "elderly_count": "2"}
    _, errors = check_questions(FORM, page.questions, raw, {"kk_number": "3510011501200003"})
    assert set(errors) == {"elderly_count"}
    assert "4" in str(errors["elderly_count"]) and "3" in str(errors["elderly_count"])
