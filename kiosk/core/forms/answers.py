"""Checking a page of answers, deciding which questions show, and the review summary.

Raw answers come from the screen as strings (or lists of strings for multi-choice). Each
question kind has a cleaner in :data:`CLEANERS` that returns the stored value (single: option
code; multi: list of codes in option order; integer: int; yesno: bool; text: str) or raises
:class:`AnswerInvalid` with a stable ``code`` from :data:`ANSWER_FAILURES` and a message for
the villager as a message id the edge translates (``err.message(gettext)``).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kiosk.core import members as people
from kiosk.core.forms.checks import CHECKS
from kiosk.core.forms.definition import FormDefinition, Page, Question
from kiosk.core.i18n import N_, Msgid, Translatable, Translate, render, untranslated
from kiosk.errors import FormError

RawValue = str | Sequence[str]
Answers = Mapping[str, Any]
"""Cleaned answers by question id (the values :func:`validate_answers` returns)."""

MAX_INTEGER_DIGITS = 6

ANSWER_FAILURES: dict[str, str] = {
    "required": N_("This question has not been answered."),
    "not_an_option": N_("That choice does not exist. Choose one of the pictures shown."),
    "one_choice_only": N_("Choose only one."),
    "too_few_choices": N_("Choose at least %(min_choices)s."),
    "too_many_choices": N_("Choose at most %(max_choices)s."),
    "exclusive_choice": N_("'%(label)s' cannot be chosen together with other choices."),
    "not_a_number": N_("Enter digits only, without letters or signs."),
    "below_min": N_("The smallest number allowed is %(min)s."),
    "above_max": N_("The largest number allowed is %(max)s."),
    "not_yes_no": N_("Answer Yes or No."),
    "too_long": N_("Too long: at most %(max_length)s letters or digits."),
    "bad_text": N_("The answer contains characters that are not allowed."),
    "pattern_mismatch": N_("The answer does not have the right form."),
    "kk_region_unknown": N_(
        "The first 6 digits of the family card number (%(code)s) are not a region code."
    ),
    "kk_date_invalid": N_("Digits 7 to 12 of the family card number (%(date)s) are not a date."),
    "kk_serial_zero": N_("The last four digits of a family card number are never 0000."),
    "exceeds_total": N_(
        "Too many: that makes %(sum)s people, but the family card lists only %(total)s. "
        "Please check."
    ),
    "below_parts": N_("Too few: the later answers already count %(sum)s people. Please check."),
    "kk_date_future": N_(
        "Digits 7 to 12 of the family card number (%(date)s) are a date still to come."
    ),
    "member_problem": N_("A family member's entry is not right."),
    "unknown_question": N_("Question '%(field)s' is not on this page."),
    "unknown_page": N_("Page '%(page)s' is not in this questionnaire."),
}
"""Answer failure code -> message id (English msgid, translated at the edge); codes are API."""


class AnswerInvalid(Translatable, FormError):
    """An answer failed a check; ``field`` is the question id, ``code`` the failure kind.

    ``str(err)`` is the English message (logs); ``err.message(gettext)`` translates it."""

    def __init__(self, failure: str, /, field: str = "", **params: object) -> None:
        self.code = failure
        self.msgid = ANSWER_FAILURES[failure]
        self.params = {"field": field, **params}
        super().__init__(render(self.msgid, self.params), field=field)


def _pattern_mismatch(q: Question) -> AnswerInvalid:
    """``pattern_mismatch``, worded by the question's own ``pattern_message`` when it has one."""
    err = AnswerInvalid("pattern_mismatch", q.id)
    if q.pattern_message:
        err.msgid = q.pattern_message
        err.args = (err.message(),)
    return err


def _values(raw: RawValue | None) -> list[str]:
    """A raw answer as a list of stripped, non-empty strings."""
    if raw is None:
        return []
    items = [raw] if isinstance(raw, str) else list(raw)
    return [s.strip() for s in items if isinstance(s, str) and s.strip()]


def _single_value(q: Question, values: list[str]) -> str:
    """Exactly one value, or ``one_choice_only``."""
    if len(values) > 1:
        raise AnswerInvalid("one_choice_only", q.id)
    return values[0]


def _clean_single(q: Question, values: list[str]) -> str:
    code = _single_value(q, values)
    if q.option(code) is None:
        raise AnswerInvalid("not_an_option", q.id)
    return code


def _clean_multi(q: Question, values: list[str]) -> list[str]:
    chosen = set(values)
    for code in chosen:
        if q.option(code) is None:
            raise AnswerInvalid("not_an_option", q.id)
    for option in q.options:
        if option.exclusive and option.code in chosen and len(chosen) > 1:
            raise AnswerInvalid("exclusive_choice", q.id, label=Msgid(option.label))
    if q.min_choices is not None and len(chosen) < q.min_choices:
        raise AnswerInvalid("too_few_choices", q.id, min_choices=q.min_choices)
    if q.max_choices is not None and len(chosen) > q.max_choices:
        raise AnswerInvalid("too_many_choices", q.id, max_choices=q.max_choices)
    return [o.code for o in q.options if o.code in chosen]


def _clean_integer(q: Question, values: list[str]) -> int:
    text = _single_value(q, values)
    digits = text[1:] if text.startswith("-") else text
    if not (digits.isascii() and digits.isdigit()) or len(digits) > MAX_INTEGER_DIGITS:
        raise AnswerInvalid("not_a_number", q.id)
    number = int(text)
    if q.min is not None and number < q.min:
        raise AnswerInvalid("below_min", q.id, min=q.min)
    if q.max is not None and number > q.max:
        raise AnswerInvalid("above_max", q.id, max=q.max)
    return number


def _clean_yesno(q: Question, values: list[str]) -> bool:
    code = _single_value(q, values)
    if code not in ("yes", "no"):
        raise AnswerInvalid("not_yes_no", q.id)
    return code == "yes"


def _clean_text(q: Question, values: list[str], today: dt.date | None = None) -> str:
    text = _single_value(q, values)
    if q.strip:
        text = "".join(ch for ch in text if ch not in q.strip)
    text = " ".join(text.split())
    if any(unicodedata.category(ch).startswith("C") for ch in text):
        raise AnswerInvalid("bad_text", q.id)
    if q.max_length is not None and len(text) > q.max_length:
        raise AnswerInvalid("too_long", q.id, max_length=q.max_length)
    if q.pattern is not None and not re.fullmatch(q.pattern, text):
        raise _pattern_mismatch(q)
    if q.check is not None:
        failure = CHECKS[q.check](text, today)
        if failure is not None:
            raise AnswerInvalid(failure[0], q.id, **failure[1])
    return text


CLEANERS: dict[str, Callable[[Question, list[str]], Any]] = {
    "single": _clean_single,
    "multi": _clean_multi,
    "integer": _clean_integer,
    "yesno": _clean_yesno,
    "text": _clean_text,
}
"""Question kind -> function turning non-empty raw values into the stored answer."""


def _parts_sum(form: FormDefinition, total_id: str, answers: Answers, skip: str) -> int:
    """The sum of the visible answers of every question that is ``part_of`` ``total_id``."""
    out = 0
    for other in form.questions():
        if other.part_of == total_id and other.id != skip and is_visible(other, answers):
            value = answers.get(other.id)
            if isinstance(value, int) and not isinstance(value, bool):
                out += value
    return out


def _check_totals(form: FormDefinition, q: Question, value: Any, answers: Answers) -> None:
    """Counts stay consistent: the parts of a total (children, elderly) never exceed it, and a
    total is never made smaller than the parts already given."""
    if q.kind != "integer":
        return
    if q.part_of is not None:
        total = answers.get(q.part_of)
        if isinstance(total, int) and not isinstance(total, bool):
            together = value + _parts_sum(form, q.part_of, answers, q.id)
            if together > total:
                raise AnswerInvalid("exceeds_total", q.id, sum=together, total=total)
    parts = _parts_sum(form, q.id, answers, q.id)
    if parts > value:
        raise AnswerInvalid("below_parts", q.id, sum=parts)


def clean_answer(
    form: FormDefinition,
    q: Question,
    values: list[str],
    answers: Answers,
    today: dt.date | None = None,
) -> Any:
    """One non-empty raw answer cleaned by its kind, then checked against the other answers.

    ``today`` (injected, the kiosk's local date) lets date checks refuse dates still to come.
    """
    value = _clean_text(q, values, today) if q.kind == "text" else CLEANERS[q.kind](q, values)
    _check_totals(form, q, value, answers)
    return value


def clean_members(q: Question, raw: Any, today: dt.date | None) -> list[dict[str, Any]]:
    """A member list (mappings as :func:`kiosk.core.members.check_member` takes, or as stored)
    checked entry by entry and as a household; raises the first problem as AnswerInvalid."""
    day = today or dt.date.today()
    if not isinstance(raw, list | tuple) or not raw:
        raise _member_failure(q, people.check_household([])[0])
    cleaned: list[people.Member] = []
    for i, entry in enumerate(raw):
        if not isinstance(entry, Mapping):
            raise AnswerInvalid("not_an_option", q.id)
        member, problems = people.check_member(entry, day, index=i)
        if member is None:
            raise _member_failure(q, problems[0])
        cleaned.append(member)
    problems = people.check_household(cleaned)
    if problems:
        raise _member_failure(q, problems[0])
    return [m.to_dict() for m in cleaned]


def _member_failure(q: Question, problem: people.MemberProblem) -> AnswerInvalid:
    """``member_problem``, worded by the member check's own message."""
    err = AnswerInvalid("member_problem", q.id, member=problem.index, member_field=problem.field)
    err.msgid = problem.msgid or people.PROBLEMS[problem.code]
    err.params.update(problem.params)
    err.args = (err.message(),)
    return err


def derived_answers(form: FormDefinition, answers: Answers) -> dict[str, Any]:
    """The answers implied by a member list (counts, disability, the head's work), for every
    ``members`` question of the form: recorded beside the list, never typed."""
    out: dict[str, Any] = {}
    for q in form.questions():
        value = answers.get(q.id)
        if q.kind == "members" and isinstance(value, list) and value:
            out.update(people.derived_counts([people.member_from_dict(m) for m in value]))
    return out


def is_visible(question: Question, answers: Answers) -> bool:
    """Whether ``question`` is shown given the cleaned ``answers`` so far."""
    cond = question.show_if
    if cond is None:
        return True
    value = answers.get(cond.question)
    if value is None:
        return False
    if cond.at_least is not None:
        return isinstance(value, int) and not isinstance(value, bool) and value >= cond.at_least
    if isinstance(value, bool):
        given = {"yes" if value else "no"}
    elif isinstance(value, str):
        given = {value}
    else:
        given = set(value)
    return bool(given & set(cond.any_of))


def visible_questions(page: Page, answers: Answers) -> list[Question]:
    """The questions of ``page`` to show, given answers so far (this page's included)."""
    shown: list[Question] = []
    context = dict(answers)
    for q in page.questions:
        if is_visible(q, context):
            shown.append(q)
        else:
            context.pop(q.id, None)
    return shown


def _page(form: FormDefinition, page_id: str) -> Page:
    page = form.page(page_id)
    if page is None:
        raise AnswerInvalid("unknown_page", page=page_id)
    return page


def check_page(
    form: FormDefinition,
    page_id: str,
    raw: Mapping[str, RawValue],
    previous: Answers | None = None,
    today: dt.date | None = None,
) -> tuple[dict[str, Any], dict[str, AnswerInvalid]]:
    """Clean every answer of one page; return (cleaned answers, failures by question id).

    ``previous`` holds the cleaned answers of earlier pages, for ``show_if``. Answers to
    questions hidden by ``show_if`` are dropped; an unanswered optional question is left out.
    """
    page = _page(form, page_id)
    on_page = {q.id for q in page.questions}
    errors: dict[str, AnswerInvalid] = {
        key: AnswerInvalid("unknown_question", key) for key in raw if key not in on_page
    }
    cleaned, failures = check_questions(form, page.questions, raw, previous, today)
    errors.update(failures)
    return cleaned, errors


def check_questions(
    form: FormDefinition,
    questions: Sequence[Question],
    raw: Mapping[str, RawValue],
    previous: Answers | None = None,
    today: dt.date | None = None,
) -> tuple[dict[str, Any], dict[str, AnswerInvalid]]:
    """Clean the answers of questions asked together (a page, or one screen of a
    ``one_screen`` page); return (cleaned answers, failures by question id).

    They are checked together: each question sees this submission's earlier answers, never
    the ones it replaces, so three counts on one screen are compared with each other (children
    more than the people on the card fail on the children's field). ``previous`` holds the
    other answers, for ``show_if`` and totals."""
    context: dict[str, Any] = dict(previous or {})
    for q in questions:
        context.pop(q.id, None)
    errors: dict[str, AnswerInvalid] = {}
    cleaned: dict[str, Any] = {}
    for q in questions:
        if not is_visible(q, context):
            continue
        if q.kind == "members":
            try:
                cleaned[q.id] = context[q.id] = clean_members(q, raw.get(q.id), today)
            except AnswerInvalid as err:
                errors[q.id] = err
            continue
        values = _values(raw.get(q.id))
        if not values:
            if q.required:
                errors[q.id] = AnswerInvalid("required", q.id)
            continue
        try:
            value = clean_answer(form, q, values, context, today)
        except AnswerInvalid as err:
            errors[q.id] = err
            continue
        cleaned[q.id] = context[q.id] = value
    return cleaned, errors


def validate_answers(
    form: FormDefinition,
    page_id: str,
    raw: Mapping[str, RawValue],
    previous: Answers | None = None,
    today: dt.date | None = None,
) -> dict[str, Any]:
    """The cleaned answers of one page, or raise the first :class:`AnswerInvalid` in page order.

    Use :func:`check_page` to get every failure of the page at once.
    """
    cleaned, errors = check_page(form, page_id, raw, previous, today)
    if errors:
        raise next(iter(errors.values()))
    return cleaned


def validate_question(
    form: FormDefinition,
    question_id: str,
    raw: RawValue | None,
    answers: Answers | None = None,
    today: dt.date | None = None,
) -> Any:
    """Clean one answer, for screens that show one question at a time.

    ``answers`` are the cleaned answers so far (any page), used for ``show_if``. Returns the
    stored value, or None when the question is hidden or optional and left empty. Raises
    :class:`AnswerInvalid` (``unknown_question``, ``required`` or the kind's failure).
    """
    question = form.question(question_id)
    if question is None:
        raise AnswerInvalid("unknown_question", question_id)
    if not is_visible(question, answers or {}):
        return None
    if question.kind == "members":
        return clean_members(question, raw, today)
    values = _values(raw)
    if not values:
        if question.required:
            raise AnswerInvalid("required", question_id)
        return None
    return clean_answer(form, question, values, answers or {}, today)


def visible_answers(form: FormDefinition, answers: Answers) -> dict[str, Any]:
    """The answers to store: only those of questions visible with these answers."""
    visible = {q.id for q in form.questions() if is_visible(q, answers)}
    return {k: v for k, v in answers.items() if k in visible}


def missing_questions(form: FormDefinition, answers: Answers) -> list[str]:
    """Ids of required, visible questions without an answer (check before submitting)."""
    missing: list[str] = []
    for q in form.questions():
        if q.required_answer and is_visible(q, answers) and answers.get(q.id) in (None, []):
            missing.append(q.id)
    return missing


@dataclass(frozen=True)
class SummaryRow:
    """One line of the review screen, with ids so the UI can link back to the page."""

    page_id: str
    question_id: str
    question: str
    answer: str


def format_answer(question: Question, value: Any, translate: Translate = untranslated) -> str:
    """A cleaned answer as the villager reads it: option labels, number with unit, Ya/Tidak."""
    if question.kind == "yesno":
        option = question.option("yes" if value else "no")
        return translate(option.label) if option else str(value)
    if question.kind in ("single", "multi"):
        codes = [value] if isinstance(value, str) else list(value)
        labels = []
        for code in codes:
            option = question.option(code)
            labels.append(translate(option.label) if option else code)
        return ", ".join(labels)
    if question.kind == "members":
        return "; ".join(
            f"{m['name']} ({people.label('relation', m['relation'], translate)}, {m['age']})"
            for m in value
        )
    if question.kind == "integer" and question.unit is not None:
        unit = question.unit_one if value == 1 and question.unit_one else question.unit
        return f"{value} {translate(unit)}"
    return str(value)


def summary_rows(
    form: FormDefinition, answers: Answers, translate: Translate = untranslated
) -> list[SummaryRow]:
    """Review-screen rows for every visible, answered question, in form order."""
    rows: list[SummaryRow] = []
    for page in form.pages:
        for q in page.questions:
            if q.id in answers and answers[q.id] is not None and is_visible(q, answers):
                answer = format_answer(q, answers[q.id], translate)
                rows.append(SummaryRow(page.id, q.id, translate(q.label), answer))
    return rows


def summary(
    form: FormDefinition, answers: Answers, translate: Translate = untranslated
) -> list[tuple[str, str]]:
    """``(question label, answer label)`` pairs for the review screen, in form order."""
    return [(r.question, r.answer) for r in summary_rows(form, answers, translate)]
