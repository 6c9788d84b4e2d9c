"""Questionnaire and consent definitions: loading, checking answers, show_if, summary."""

from __future__ import annotations

import copy
import json
from importlib import resources
from typing import Any

import pytest

from kiosk.core.forms import (
    ANSWER_FAILURES,
    AnswerInvalid,
    FormDefinition,
    FormDefinitionError,
    check_page,
    format_answer,
    load_consent,
    load_form,
    missing_questions,
    parse_consent,
    parse_form,
    summary,
    summary_rows,
    validate_answers,
    validate_question,
    visible_questions,
)
from kiosk.core.forms.definition import MAX_QUESTIONS_PER_PAGE
from kiosk.errors import FormError, InputError
from kiosk.languages import translator


def t(text: str, en: str | None = None) -> str:
    """A label: its msgid (the English text when given)."""
    return en or text


def opt(code: str, **extra: Any) -> dict[str, Any]:
    """An option with an icon named after its code."""
    return {"code": code, "icon": code, "label": t(code.title()), **extra}


SMALL: dict[str, Any] = {
    "form_id": "small",
    "version": 2,
    "title": t("Kecil"),
    "pages": [
        {
            "id": "p1",
            "title": t("Satu"),
            "questions": [
                {
                    "id": "kk",
                    "kind": "text",
                    "label": t("No. KK"),
                    "max_length": 16,
                    "strip": " .-",
                    "pattern": "[0-9]{16}",
                    "pattern_message": t("No. KK harus 16 angka.", "16 digits."),
                },
                {
                    "id": "people",
                    "kind": "integer",
                    "label": t("Orang"),
                    "min": 1,
                    "max": 30,
                    "unit": t("orang", "people"),
                },
                {"id": "sick", "kind": "yesno", "label": t("Sakit?")},
            ],
        },
        {
            "id": "p2",
            "title": t("Dua"),
            "questions": [
                {
                    "id": "work",
                    "kind": "single",
                    "label": t("Kerja"),
                    "options": [opt("farmer"), opt("fisher")],
                },
                {
                    "id": "sick_kinds",
                    "kind": "multi",
                    "label": t("Sakit apa"),
                    "show_if": {"question": "sick", "any_of": ["yes"]},
                    "max_choices": 2,
                    "options": [opt("flu"), opt("tb"), opt("stroke"), opt("none", exclusive=True)],
                },
                {
                    "id": "note",
                    "kind": "text",
                    "label": t("Catatan"),
                    "required": False,
                    "max_length": 10,
                    "show_if": {"question": "people", "at_least": 5},
                },
            ],
        },
    ],
}


@pytest.fixture
def small() -> FormDefinition:
    """A small two-page form using every question kind."""
    return parse_form(SMALL)


def invalid(form: FormDefinition, page: str, raw: dict[str, Any], **prev: Any) -> AnswerInvalid:
    """The AnswerInvalid raised for ``raw`` on ``page``."""
    with pytest.raises(AnswerInvalid) as err:
        validate_answers(form, page, raw, prev)
    return err.value


# --- every question kind -------------------------------------------------------------------
def test_page_answers_are_cleaned_by_kind(small: FormDefinition) -> None:
    cleaned = validate_answers(
        small, "p1", {"kk": "3510-0101.2020 0001", "people": " 4 ", "sick": "yes"}
    )
    assert cleaned == {"kk": "3510010120200001", "people": 4, "sick": True}
    cleaned = validate_answers(
        small, "p2", {"work": "fisher", "sick_kinds": ["tb", "flu"]}, {"sick": True, "people": 4}
    )
    assert cleaned == {"work": "fisher", "sick_kinds": ["flu", "tb"]}


@pytest.mark.parametrize(
    ("raw", "field", "code"),
    [
        ({"kk": "", "people": "4", "sick": "no"}, "kk", "required"),
        ({"kk": "351001012020000", "people": "4", "sick": "no"}, "kk", "pattern_mismatch"),
        ({"kk": "35100101202000011", "people": "4", "sick": "no"}, "kk", "too_long"),
        ({"kk": "3510010120\x0020001", "people": "4", "sick": "no"}, "kk", "bad_text"),
        ({"kk": "3510010120200001", "people": "empat", "sick": "no"}, "people", "not_a_number"),
        ({"kk": "3510010120200001", "people": "4.5", "sick": "no"}, "people", "not_a_number"),
        ({"kk": "3510010120200001", "people": "٤", "sick": "no"}, "people", "not_a_number"),
        ({"kk": "3510010120200001", "people": "1234567", "sick": "no"}, "people", "not_a_number"),
        ({"kk": "3510010120200001", "people": "0", "sick": "no"}, "people", "below_min"),
        ({"kk": "3510010120200001", "people": "-2", "sick": "no"}, "people", "below_min"),
        ({"kk": "3510010120200001", "people": "31", "sick": "no"}, "people", "above_max"),
        (
            {"kk": "3510010120200001", "people": ["3", "4"], "sick": "no"},
            "people",
            "one_choice_only",
        ),
        ({"kk": "3510010120200001", "people": "4", "sick": "maybe"}, "sick", "not_yes_no"),
        (
            {"kk": "3510010120200001", "people": "4", "sick": "no", "x": "1"},
            "x",
            "unknown_question",
        ),
    ],
)
def test_bad_values_on_page_one(
    small: FormDefinition, raw: dict[str, Any], field: str, code: str
) -> None:
    err = invalid(small, "p1", raw)
    assert (err.field, err.code) == (field, code)
    assert isinstance(err, FormError) and isinstance(err, InputError)


@pytest.mark.parametrize(
    ("raw", "field", "code"),
    [
        ({"work": "pilot", "sick_kinds": ["flu"]}, "work", "not_an_option"),
        ({"work": ["farmer", "fisher"], "sick_kinds": ["flu"]}, "work", "one_choice_only"),
        ({"work": "farmer", "sick_kinds": ["flu", "x"]}, "sick_kinds", "not_an_option"),
        ({"work": "farmer", "sick_kinds": ["none", "tb"]}, "sick_kinds", "exclusive_choice"),
        (
            {"work": "farmer", "sick_kinds": ["flu", "tb", "stroke"]},
            "sick_kinds",
            "too_many_choices",
        ),
        ({"work": "farmer", "sick_kinds": []}, "sick_kinds", "required"),
        ({"work": "farmer", "sick_kinds": ["", " "]}, "sick_kinds", "required"),
    ],
)
def test_bad_values_on_page_two(
    small: FormDefinition, raw: dict[str, Any], field: str, code: str
) -> None:
    err = invalid(small, "p2", raw, sick=True, people=2)
    assert (err.field, err.code) == (field, code)


def test_too_few_choices() -> None:
    data = copy.deepcopy(SMALL)
    data["pages"][1]["questions"][1]["min_choices"] = 2
    form = parse_form(data)
    err = invalid(form, "p2", {"work": "farmer", "sick_kinds": ["flu"]}, sick=True)
    assert err.code == "too_few_choices"
    assert "2" in str(err)


def test_messages_are_bilingual_and_filled(small: FormDefinition) -> None:
    err = invalid(small, "p1", {"kk": "1", "people": "4", "sick": "no"})
    assert str(err) == err.message() == "16 digits."  # the question's own pattern message
    err = invalid(small, "p1", {"kk": "3510010120200001", "people": "99", "sick": "no"})
    assert str(err) == "The largest number allowed is 30."
    assert err.message(translator("id")) == "Angka paling besar 30."
    err = invalid(small, "p2", {"work": "farmer", "sick_kinds": ["none", "tb"]}, sick=True)
    assert "'None'" in str(err)


def test_every_answer_failure_code_is_translated() -> None:
    indonesian = translator("id")
    for msgid in ANSWER_FAILURES.values():
        assert indonesian(msgid) != msgid


def test_check_page_reports_every_failure(small: FormDefinition) -> None:
    cleaned, errors = check_page(small, "p1", {"kk": "x", "people": "", "sick": "yes"})
    assert cleaned == {"sick": True}
    assert {k: e.code for k, e in errors.items()} == {
        "kk": "pattern_mismatch",
        "people": "required",
    }


def test_unknown_page_is_an_error(small: FormDefinition) -> None:
    err = invalid(small, "p9", {})
    assert err.code == "unknown_page"


# --- show_if ---------------------------------------------------------------------------------
def test_hidden_question_is_not_required_and_its_answer_is_dropped(small: FormDefinition) -> None:
    cleaned = validate_answers(
        small, "p2", {"work": "farmer", "sick_kinds": ["tb"]}, {"sick": False}
    )
    assert cleaned == {"work": "farmer"}


def test_at_least_condition(small: FormDefinition) -> None:
    page = small.page("p2")
    assert page is not None
    assert [q.id for q in visible_questions(page, {"people": 4})] == ["work"]
    assert [q.id for q in visible_questions(page, {"people": 5})] == ["work", "note"]
    cleaned = validate_answers(small, "p2", {"work": "farmer", "note": " ok "}, {"people": 5})
    assert cleaned == {"work": "farmer", "note": "ok"}
    # optional and left empty: left out
    assert validate_answers(small, "p2", {"work": "farmer"}, {"people": 6}) == {"work": "farmer"}


def test_show_if_on_a_follow_up_page() -> None:
    form = load_form("household_v1")
    cleaned = validate_answers(
        form, "disability", {"disability_kinds": "visual"}, {"disability": True}
    )
    assert cleaned["disability_kinds"] == ["visual"]
    err = invalid(form, "disability", {}, disability=True)
    assert (err.field, err.code) == ("disability_kinds", "required")
    cleaned = validate_answers(
        form, "disability", {"disability_kinds": "visual"}, {"disability": False}
    )
    assert "disability_kinds" not in cleaned


# --- summary ---------------------------------------------------------------------------------
def test_summary_lists_labels_in_form_order(small: FormDefinition) -> None:
    answers = {
        "kk": "3510010120200001",
        "people": 5,
        "sick": True,
        "work": "fisher",
        "sick_kinds": ["flu", "tb"],
        "note": "ok",
    }
    assert summary(small, answers) == [
        ("No. KK", "3510010120200001"),
        ("Orang", "5 people"),
        ("Sakit?", "Yes"),
        ("Kerja", "Fisher"),
        ("Sakit apa", "Flu, Tb"),
        ("Catatan", "ok"),
    ]
    shouted = summary(small, answers, str.upper)  # every label, unit and option is translated
    assert shouted[1] == ("ORANG", "5 PEOPLE")
    assert shouted[2] == ("SAKIT?", "YES")
    assert summary(small, answers, translator("id"))[2] == ("Sakit?", "Ya")
    rows = summary_rows(small, answers)
    assert (rows[3].page_id, rows[3].question_id) == ("p2", "work")


def test_summary_skips_hidden_and_unanswered(small: FormDefinition) -> None:
    answers = {"people": 2, "sick": False, "sick_kinds": ["flu"], "note": "stale"}
    assert [q for q, _ in summary(small, answers)] == ["Orang", "Sakit?"]


def test_format_answer_unknown_code_shows_code(small: FormDefinition) -> None:
    q = small.question("work")
    assert q is not None
    assert format_answer(q, "retired") == "retired"


def test_missing_questions_respects_show_if(small: FormDefinition) -> None:
    assert missing_questions(small, {"kk": "1", "people": 2, "sick": False}) == ["work"]
    assert missing_questions(small, {"kk": "1", "people": 2, "sick": True}) == [
        "work",
        "sick_kinds",
    ]


# --- the shipped household form ------------------------------------------------------------
def test_household_v1_loads_and_covers_every_topic() -> None:
    form = load_form("household_v1")
    assert (form.form_id, form.version, form.version_id) == ("household", 1, "household_v1")
    ids = {q.id for q in form.questions()}
    topics = {
        "kk_number",
        "members_count",
        "main_work",
        "income_band",
        "disability",
        "chronic_illness",
        "floor",
        "wall",
        "water",
        "toilet",
        "lighting",
        "cooking_fuel",
        "assets",
        "livestock",
        "shocks",
        "programmes_requested",
    }
    assert topics <= ids
    shocks = form.question("shocks")
    assert shocks is not None
    assert {"crop_failure", "illness", "job_loss"} <= {o.code for o in shocks.options}
    programmes = form.question("programmes_requested")
    assert programmes is not None
    assert {"pkh", "bpnt", "pbi_jk"} <= {o.code for o in programmes.options}
    assert all(1 <= len(p.questions) <= MAX_QUESTIONS_PER_PAGE for p in form.pages)


def test_household_v1_every_choice_has_an_icon_and_translation() -> None:
    form = load_form()
    for q in form.questions():
        for o in q.choices():
            assert o.icon and o.label and translator("id")(o.label)
    assert "money_1" in form.icons()
    assert translator("id")(form.pages[0].title) == "Kartu Keluarga"


def test_household_v1_kk_number_accepts_separators() -> None:
    form = load_form()
    raw = {"kk_number": "3510 0112 0315 0001", "dusun": " Krajan  Lor "}
    cleaned = validate_answers(form, "family_card", raw)
    assert cleaned == {"kk_number": "3510011203150001", "dusun": "Krajan Lor"}


def _kk_checked_form() -> FormDefinition:
    """household_v1 with the kk_number content check switched on."""
    text = resources.files("kiosk.core.forms").joinpath("household_v1.json").read_text("utf-8")
    data = json.loads(text)
    data["pages"][0]["questions"][0]["check"] = "kk_number"
    return parse_form(data)


@pytest.mark.parametrize(
    ("kk", "code", "fragment"),
    [
        ("3599011203150001", "kk_region_unknown", "359901"),
        ("3510991203150001", "kk_region_unknown", "351099"),
        ("3510013202150001", "kk_date_invalid", "32-02-15"),
        ("3510011213150001", "kk_date_invalid", "12-13-15"),
        ("3510011203150000", "kk_serial_zero", "0000"),
        ("351001120315000", "pattern_mismatch", "16 digits"),
    ],
)
def test_kk_number_check_content(kk: str, code: str, fragment: str) -> None:
    with pytest.raises(AnswerInvalid) as err:
        validate_question(_kk_checked_form(), "kk_number", kk)
    assert err.value.code == code
    assert fragment in str(err.value)
    assert err.value.message(translator("id")) != str(err.value)


def test_kk_number_from_before_the_papua_split_is_accepted() -> None:
    form = _kk_checked_form()
    assert validate_question(form, "kk_number", "9101011203150001") == "9101011203150001"


def test_unknown_check_name_is_a_definition_error() -> None:
    err = broken(lambda d: q(d, 0, 0).update(check="luhn"))
    assert any("check: must be one of ['kk_number']" in p for p in err.problems)


def test_check_is_only_for_text_questions() -> None:
    err = broken(lambda d: q(d, 0, 1).update(check="kk_number"))
    assert any("unknown keys for a question of kind integer: ['check']" in p for p in err.problems)


def test_load_is_cached() -> None:
    assert load_form() is load_form()
    assert load_consent() is load_consent()


def test_unknown_definition_name() -> None:
    with pytest.raises(FormDefinitionError, match="no definition"):
        load_form("household_v99")


# --- broken definitions ----------------------------------------------------------------------
def broken(mutate: Any) -> FormDefinitionError:
    """The error from parsing SMALL after ``mutate(data)``."""
    data = copy.deepcopy(SMALL)
    mutate(data)
    with pytest.raises(FormDefinitionError) as err:
        parse_form(data)
    return err.value


def q(data: dict[str, Any], page: int, index: int) -> dict[str, Any]:
    """One raw question of ``data``."""
    result: dict[str, Any] = data["pages"][page]["questions"][index]
    return result


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [
        (lambda d: d.update(version=0), "version: must be at least 1"),
        (lambda d: d.update(version="1"), "version: must be an integer"),
        (lambda d: d.update(form_id="Small Form"), "form_id: must match"),
        (lambda d: d.update(extra=1), "unknown keys ['extra']"),
        (lambda d: d.update(pages=[]), "pages: must be a non-empty list"),
        (lambda d: d.update(title={"id": "x"}), "title: must be"),
        (lambda d: d["pages"][1].update(id="p1"), "duplicate page id"),
        (
            lambda d: d["pages"][0]["questions"].append(
                {"id": "z", "kind": "yesno", "label": t("z")}
            ),
            "must list 1 to 3 questions",
        ),
        (lambda d: q(d, 0, 2).update(kind="slider"), "kind: must be one of"),
        (lambda d: q(d, 0, 2).update(id="people"), "duplicate id 'people'"),
        (
            lambda d: q(d, 0, 2).update(options=[opt("a"), opt("b")]),
            "unknown keys for a question of kind yesno",
        ),
        (lambda d: q(d, 0, 1).pop("max"), "missing keys ['max']"),
        (lambda d: q(d, 0, 1).update(min=40), "min 40 is greater than max 30"),
        (lambda d: q(d, 0, 1).update(max=True), "max: must be an integer"),
        (lambda d: q(d, 0, 0).update(pattern="[0-9"), "not a regular expression"),
        (lambda d: q(d, 0, 0).pop("pattern_message"), "needs a pattern_message"),
        (lambda d: q(d, 0, 0).update(max_length=0), "max_length: must be at least 1"),
        (lambda d: q(d, 0, 0).update(strip=1), "strip: must be a string"),
        (lambda d: q(d, 0, 2).update(required="yes"), "required: must be true or false"),
        (lambda d: q(d, 0, 2).update(icon="Bad Icon"), "icon: must match"),
        (lambda d: q(d, 1, 0).update(options=[opt("a")]), "at least 2 options"),
        (lambda d: q(d, 1, 0).update(options=[opt("a"), opt("a")]), "duplicate option code"),
        (lambda d: q(d, 1, 0).update(options=[opt("a"), {"code": "b"}]), "options[1].icon"),
        (lambda d: q(d, 1, 0).update(options=[opt("a"), opt("b", x=1)]), "unknown keys ['x']"),
        (
            lambda d: q(d, 1, 0).update(options=[opt("a"), opt("b", exclusive=True)]),
            "exclusive is only for multi",
        ),
        (lambda d: q(d, 1, 0).update(options=[opt("a"), opt("b", exclusive=1)]), "true or false"),
        (lambda d: q(d, 1, 1).update(max_choices=9), "max_choices <= number of options"),
        (
            lambda d: q(d, 1, 1).update(show_if={"question": "nope", "any_of": ["yes"]}),
            "not an earlier question",
        ),
        (
            lambda d: q(d, 1, 1).update(show_if={"question": "sick", "any_of": ["maybe"]}),
            "'maybe' is not an option",
        ),
        (lambda d: q(d, 1, 1).update(show_if={"question": "sick"}), "any_of: must be a non-empty"),
        (
            lambda d: q(d, 1, 1).update(show_if={"question": "kk", "any_of": ["x"]}),
            "cannot depend on a text",
        ),
        (
            lambda d: q(d, 1, 1).update(show_if={"question": "people", "any_of": ["1"]}),
            "tested with at_least",
        ),
        (
            lambda d: q(d, 1, 1).update(
                show_if={"question": "sick", "any_of": ["yes"], "at_least": 1}
            ),
            "tested with any_of",
        ),
        (lambda d: q(d, 1, 1).update(show_if="sick"), "show_if: must be"),
        (
            lambda d: q(d, 1, 1).update(show_if={"question": "work", "any_of": ["farmer"], "x": 1}),
            "unknown keys ['x']",
        ),
        (
            lambda d: q(d, 0, 0).update(show_if={"question": "sick", "any_of": ["yes"]}),
            "not an earlier question",
        ),
    ],
)
def test_broken_definition_is_rejected(mutate: Any, fragment: str) -> None:
    err = broken(mutate)
    assert any(fragment in p for p in err.problems), err.problems
    assert isinstance(err, ValueError)


def test_broken_definition_lists_every_problem() -> None:
    def two_faults(d: dict[str, Any]) -> None:
        d["version"] = 0
        q(d, 0, 1)["min"] = 99

    err = broken(two_faults)
    assert len(err.problems) == 2
    assert "2 problem(s)" in str(err)


def test_definition_must_be_an_object() -> None:
    with pytest.raises(FormDefinitionError):
        parse_form([])


def test_shipped_json_files_are_valid_json_with_no_duplicate_keys() -> None:
    def no_dupes(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in pairs]
        assert len(keys) == len(set(keys)), keys
        return dict(pairs)

    for name in ("household_v1.json", "household_v2.json", "consent_v1.json", "consent_v2.json"):
        text = resources.files("kiosk.core.forms").joinpath(name).read_text(encoding="utf-8")
        json.loads(text, object_pairs_hook=no_dupes)


# --- consent -------------------------------------------------------------------------------
def test_consent_v2_has_every_part_in_both_languages() -> None:
    consent = load_consent()
    assert consent.version == "consent_v2"
    assert len(consent.summary) >= 4, "a plain-language summary is spoken by default"
    assert [s.id for s in consent.sections] == [
        "purpose",
        "data_kinds",
        "retention",
        "rights",
        "refusal",
    ]
    assert "27 Tahun 2022" in translator("id")(consent.law)
    rights = consent.section("rights")
    assert rights is not None and len(rights.items) >= 5
    indonesian = translator("id")
    assert all(text and indonesian(text) != text for text in consent.texts())


def test_consent_promises_the_retention_it_declares() -> None:
    consent = load_consent()
    retention = consent.section("retention")
    assert retention is not None
    days = consent.kiosk_retention_days
    indonesian = translator("id")
    assert any(f"{days} hari" in indonesian(item) for item in retention.items)
    assert any(f"{days} days" in item for item in retention.items)
    assert any(f"{days} hari" in indonesian(item) for item in consent.summary)


def test_consent_v1_still_loads_for_records_given_under_it() -> None:
    assert load_consent("consent_v1").version == "consent_v1"
    assert load_consent("consent_v1").summary == ()


def test_a_summary_that_is_not_a_list_is_refused() -> None:
    data = _consent_data()
    data["summary"] = "short"
    with pytest.raises(FormDefinitionError, match="summary"):
        parse_consent(data)


def _consent_data() -> dict[str, Any]:
    text = resources.files("kiosk.core.forms").joinpath("consent_v2.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [
        (lambda d: d.update(version="v1"), "version: must match"),
        (lambda d: d.update(kiosk_retention_days=-1), "kiosk_retention_days"),
        (lambda d: d.update(kiosk_retention_days=True), "kiosk_retention_days"),
        (lambda d: d["sections"].pop(3), "sections: must be"),
        (lambda d: d["sections"].reverse(), "sections: must be"),
        (lambda d: d["sections"][0].pop("body"), "needs a body or items"),
        (lambda d: d["sections"][0].update(items="x"), "items: must be a list"),
        (lambda d: d["sections"][0].update(extra=1), "unknown keys"),
        (lambda d: d["sections"].append("x"), "must be an object"),
        (lambda d: d.update(question={"id": "Setuju?"}), "question: must be"),
        (lambda d: d.update(sections={}), "sections: must be a list"),
        (lambda d: d.update(other=1), "unknown keys ['other']"),
    ],
)
def test_broken_consent_is_rejected(mutate: Any, fragment: str) -> None:
    data = _consent_data()
    mutate(data)
    with pytest.raises(FormDefinitionError) as err:
        parse_consent(data)
    assert any(fragment in p for p in err.value.problems), err.value.problems


def test_consent_must_be_an_object() -> None:
    with pytest.raises(FormDefinitionError):
        parse_consent("consent")


# --- one question per screen ------------------------------------------------------------------
def test_validate_question_uses_answers_from_the_same_page() -> None:
    form = load_form("household_v1")
    # disability was answered on an earlier screen of the same page
    assert validate_question(
        form, "disability_kinds", ["mental", "visual"], {"disability": True}
    ) == [
        "visual",
        "mental",
    ]
    assert validate_question(form, "disability_kinds", ["visual"], {"disability": False}) is None


@pytest.mark.parametrize(
    ("qid", "raw", "answers", "code"),
    [
        ("disability_kinds", [], {"disability": True}, "required"),
        ("disability_kinds", ["x"], {"disability": True}, "not_an_option"),
        ("members_count", "0", {}, "below_min"),
        ("nope", "1", {}, "unknown_question"),
    ],
)
def test_validate_question_failures(qid: str, raw: Any, answers: dict[str, Any], code: str) -> None:
    with pytest.raises(AnswerInvalid) as err:
        validate_question(load_form("household_v1"), qid, raw, answers)
    assert (err.value.field, err.value.code) == (qid, code)


def test_validate_question_optional_empty_is_none(small: FormDefinition) -> None:
    assert validate_question(small, "note", "", {"people": 9}) is None
    assert validate_question(small, "note", " hi ", {"people": 9}) == "hi"
