"""A question shown because of an earlier answer on its own page is saved and checked."""

from __future__ import annotations

from typing import Any

import pytest
from werkzeug.datastructures import MultiDict

from kiosk.core.forms import load_form
from ui.forms_view import ScreenView, question_view, validate_screen

OK = {"disability_kinds": ["visual"]}


@pytest.mark.parametrize(
    ("answer", "disability", "values", "error"),
    [
        ("visual", True, OK, False),  # dependent answer on the same page: kept
        ("not-an-option", True, {}, True),  # still validated
        ("visual", False, {}, False),  # hidden question: not stored
    ],
)
def test_a_dependent_answer_on_the_same_page(
    answer: str, disability: bool, values: dict[str, Any], error: bool
) -> None:
    form = load_form("household_v1")
    screen = ScreenView("health", "t", (question_view(form.question("disability_kinds"), "id"),))
    got, errors = validate_screen(
        form,
        screen,
        MultiDict([("disability_kinds", answer)]),
        "id",
        previous={"disability": disability},
    )
    assert got == values
    assert ("disability_kinds" in errors) is error and len(errors) == int(error)
