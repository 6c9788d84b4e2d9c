"""Entry checks of issue 15: the No. KK's structure (region + recording date through the NIK
rules), household counts that add up, English plurals, the fixed question counter, and the QR
structures the kiosk accepts as a NIK."""

from __future__ import annotations

import datetime as dt

import pytest

from kiosk.core.forms import AnswerInvalid, format_answer, load_form, validate_question
from kiosk.core.forms.checks import kk_number
from kiosk.languages import translator
from ui.forms_view import screens
from ui.qrscan import nik_from_qr

TODAY = dt.date(2026, 11, 29)
FORM = load_form("household_v1")  # the counts and grouped screens are v1's


@pytest.mark.parametrize(
    ("kk", "code"),
    [
        ("1234567890123456", "kk_region_unknown"),  # the example: 12.34 does not exist
        ("3510013202200003", "kk_date_invalid"),  # 32 February
        ("3510011512260003", "kk_date_future"),  # 15-12-26 is after today; 1926 is too old
        ("3510011501200000", "kk_serial_zero"),
    ],
)
def test_a_bad_family_card_number_is_refused_at_entry(kk: str, code: str) -> None:
    with pytest.raises(AnswerInvalid) as err:
        validate_question(FORM, "kk_number", kk, {}, TODAY)
    assert err.value.code == code and err.value.field == "kk_number"
    assert err.value.message(translator("id")) != str(err.value)


def test_a_real_family_card_number_passes_and_separators_are_dropped() -> None:
    assert validate_question(FORM, "kk_number", "3510 0115 0120 0003", {}, TODAY) == (
        "3510011501200003"
    )


def test_the_kk_date_rule_is_the_nik_one() -> None:
    # 29 February 00 exists only in 2000: the NIK's calendar rule decides, in one place
    assert kk_number("3510012902000003", TODAY) is None
    assert kk_number("3510012902010003", TODAY) == ("kk_date_invalid", {"date": "29-02-01"})


def test_children_and_elderly_never_exceed_the_people_on_the_card() -> None:
    with pytest.raises(AnswerInvalid) as err:
        validate_question(FORM, "children_count", "5", {"members_count": 3})
    assert err.value.code == "exceeds_total" and err.value.params["total"] == 3
    answers = {"members_count": 3, "children_count": 2}
    with pytest.raises(AnswerInvalid):
        validate_question(FORM, "elderly_count", "2", answers)
    assert validate_question(FORM, "elderly_count", "1", answers) == 1


def test_the_total_cannot_be_made_smaller_than_its_parts() -> None:
    answers = {"members_count": 5, "children_count": 2, "elderly_count": 2}
    with pytest.raises(AnswerInvalid) as err:
        validate_question(FORM, "members_count", "3", answers)
    assert err.value.code == "below_parts" and err.value.params["sum"] == 4
    assert validate_question(FORM, "members_count", "4", answers) == 4


def test_english_says_one_person() -> None:
    q = FORM.question("members_count")
    assert q is not None
    assert format_answer(q, 1) == "1 person"
    assert format_answer(q, 2) == "2 people"
    assert format_answer(q, 1, translator("id")) == "1 orang"


def test_the_question_counter_never_jumps() -> None:
    before = screens(FORM, "id", {"disability": False})
    after = screens(FORM, "id", {"disability": True})
    assert len(after) == len(before) + 1  # the follow-up question appears ...
    assert {s.total for s in before} == {s.total for s in after} == {len(before)}  # ... not counted
    numbers = [s.number for s in after]
    assert numbers == sorted(numbers) and numbers[-1] == len(before)
    follow = next(s for s in after if s.questions[0].id == "disability_kinds")
    parent = next(s for s in after if "disability" in [q.id for q in s.questions])
    assert follow.number == parent.number


@pytest.mark.parametrize(
    ("text", "nik"),
    [
        ("3510014501900001", "3510014501900001"),
        (" 3510014501900001\n", "3510014501900001"),
        ("IKD|3510014501900001|DEMO", "3510014501900001"),
        ("IKD|3510014501900001", "3510014501900001"),
        ("random text 1234567890123456", None),
        ("XIKD|3510014501900001|DEMO", None),
        ("IKD|351001450190000|DEMO", None),
        ("NIK 3510014501900001 nama SITI", None),
        ("35100145019000011", None),
        ("https://example.org/?nik=3510014501900001", None),
        ("", None),
        (None, None),
    ],
)
def test_a_qr_code_is_a_nik_only_when_its_whole_structure_is_known(
    text: str | None, nik: str | None
) -> None:
    assert nik_from_qr(text) == nik
