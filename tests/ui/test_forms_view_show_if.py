"""A question shown because of an earlier answer on its own page is saved and checked."""

from __future__ import annotations

from werkzeug.datastructures import MultiDict

from kiosk.core.forms import load_form
from ui.forms_view import ScreenView, question_view, validate_screen


def screen(qid: str) -> ScreenView:
    form = load_form("household_v1")
    return ScreenView("health", "t", (question_view(form.question(qid), "id"),))


def test_dependent_answer_on_the_same_page_is_kept() -> None:
    form = load_form("household_v1")
    values, errors = validate_screen(
        form,
        screen("disability_kinds"),
        MultiDict([("disability_kinds", "visual")]),
        "id",
        previous={"disability": True},
    )
    assert errors == {}
    assert values == {"disability_kinds": ["visual"]}


def test_dependent_answer_is_still_validated() -> None:
    form = load_form("household_v1")
    values, errors = validate_screen(
        form,
        screen("disability_kinds"),
        MultiDict([("disability_kinds", "not-an-option")]),
        "id",
        previous={"disability": True},
    )
    assert values == {} and "disability_kinds" in errors


def test_hidden_question_is_not_stored() -> None:
    form = load_form("household_v1")
    values, errors = validate_screen(
        form,
        screen("disability_kinds"),
        MultiDict([("disability_kinds", "visual")]),
        "id",
        previous={"disability": False},
    )
    assert values == {} and errors == {}
