"""Turn a versioned form definition (``kiosk.core.forms``) into screens, generically.

One visible question per screen (one action per screen, and it fits 800x480), except where the
definition groups closely related steppers or yes/no questions on a ``one_screen`` page (the
three household counts); a screen's answers are checked together with the core's
:func:`~kiosk.core.forms.check_questions`, and each failure is shown beside its own question.
The definition's texts are msgids, translated here with the catalogues of the person's language
(:func:`kiosk.languages.translator`); nothing here knows any particular question.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kiosk.core.forms import (
    ConsentText,
    FormDefinition,
    Question,
    check_questions,
    is_visible,
    load_consent,
    load_form,
    summary_rows,
)
from kiosk.languages import translator

WIDGETS: dict[str, str] = {
    "single": "choice",
    "yesno": "choice",
    "multi": "multi",
    "integer": "number",
    "text": "text",
    "members": "members",
}
"""Question kind -> the template widget that renders it."""


@dataclass(frozen=True)
class OptionView:
    """One pictorial answer."""

    value: str
    label: str
    icon: str | None


@dataclass(frozen=True)
class QuestionView:
    """One question as a screen shows it."""

    id: str
    widget: str
    label: str
    hint: str
    icon: str | None
    options: tuple[OptionView, ...]
    minimum: int | None
    maximum: int | None
    unit: str
    max_length: int | None
    required: bool
    numeric: bool = False  # a digits-only text answer: typed on the number keypad
    unit_one: str = ""  # the unit after the number 1 ("1 person"); ``unit`` otherwise

    def unit_for(self, value: object) -> str:
        """The unit to show after ``value`` (singular after 1 where the language has one)."""
        return self.unit_one if str(value) == "1" and self.unit_one else self.unit


@dataclass(frozen=True)
class ScreenView:
    """One screen of the questionnaire: its page and its questions (one, or a group)."""

    page_id: str
    title: str
    questions: tuple[QuestionView, ...]
    number: int = 0
    """The screen's number for "Question n of total" (a grouped screen counts once): a
    follow-up screen (only ``show_if`` questions) shares the number of the screen before it,
    so the count never jumps."""
    total: int = 0
    """How many numbered (not follow-up) screens the form has: fixed for the whole visit."""


def question_view(q: Question, lang: str) -> QuestionView:
    """A question's texts in ``lang`` and the widget that renders it."""
    tr = translator(lang)
    widget = WIDGETS.get(q.kind, "choice")
    if q.choices_from and q.options:  # the village's names: a compact list, no pictures
        widget = "select"
    return QuestionView(
        id=q.id,
        widget=widget,
        label=tr(q.label),
        hint=tr(q.help) if q.help else "",
        icon=q.icon,
        options=tuple(OptionView(o.code, tr(o.label), o.icon) for o in q.choices()),
        minimum=q.min,
        maximum=q.max,
        unit=tr(q.unit) if q.unit else "",
        max_length=q.max_length,
        required=q.required,
        numeric=bool(q.pattern and re.fullmatch(r"(\[0-9\]|\\d)[{0-9,}*+]*", q.pattern)),
        unit_one=tr(q.unit_one) if q.unit_one else "",
    )


def screens(form: FormDefinition, lang: str, answers: Mapping[str, Any]) -> list[ScreenView]:
    """The questionnaire's screens given the answers so far (the definition's screens, each
    with its visible questions; a screen with none visible is skipped)."""
    out: list[ScreenView] = []
    tr = translator(lang)
    groups = list(form.screens())
    total = sum(1 for _, qs in groups if any(q.show_if is None for q in qs))
    number = 0
    for page, questions in groups:
        number += any(q.show_if is None for q in questions)
        shown = tuple(question_view(q, lang) for q in questions if is_visible(q, answers))
        if shown:
            out.append(ScreenView(page.id, tr(page.title), shown, max(number, 1), total))
    return out


def screen_prompt(view: ScreenView, errors: Mapping[str, str]) -> str:
    """What the screen speaks on arrival: each question in turn (its error first, if any,
    else its label and hint), so every question of a grouped screen is read out."""
    parts = []
    for q in view.questions:
        err = errors.get(q.id)
        parts.append(f"{err} {q.label}" if err else f"{q.label} {q.hint}".strip())
    return " ".join(parts)


def raw_value(q: QuestionView, raw: Any) -> Any:
    """The submitted raw value for one question (a list for multi-choice; the member list)."""
    if q.widget == "members":
        return list(raw.get(q.id) or [])
    if q.widget == "multi":
        getlist = getattr(raw, "getlist", None)
        return list(getlist(q.id)) if getlist else list(raw.get(q.id) or [])
    return str(raw.get(q.id, ""))


def answer_as_raw(q: QuestionView, value: Any) -> Any:
    """A stored answer as the widget shows it again (codes, digits, yes/no)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return [str(v) for v in value]
    return str(value)


def validate_screen(
    form: FormDefinition,
    view: ScreenView,
    raw: Any,
    lang: str,
    previous: Mapping[str, Any] | None = None,
    today: dt.date | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """Check one screen: (cleaned answers, question id -> what is wrong, in words).

    ``today`` is the kiosk's local date, for checks that refuse dates still to come."""
    tr = translator(lang)
    questions = [q for v in view.questions if (q := form.question(v.id)) is not None]
    submitted = {v.id: raw_value(v, raw) for v in view.questions}
    values, failures = check_questions(form, questions, submitted, previous, today)
    errors = {qid: err.message(tr) for qid, err in failures.items()}
    return values, errors


def review_rows(
    form: FormDefinition, answers: Mapping[str, Any], lang: str
) -> list[tuple[str, str, int]]:
    """(question, answer in words, its screen number) for the review screen, in form order."""
    views = enumerate(screens(form, lang, answers))
    order = {q.id: i for i, v in views for q in v.questions}
    rows = summary_rows(form, answers, translator(lang))
    return [(r.question, r.answer, order.get(r.question_id, 0)) for r in rows]


@dataclass(frozen=True)
class ConsentView:
    """The consent text as the screen shows and speaks it."""

    version: str
    title: str
    law: str
    controller: str
    sections: tuple[tuple[str, str, tuple[str, ...]], ...]
    question: str
    agree: str
    disagree: str
    spoken: str  # the full text, read on request
    summary: tuple[str, ...] = ()
    spoken_summary: str = ""  # spoken by default (<= 45 s)


def consent_view(consent: ConsentText, lang: str) -> ConsentView:
    """The consent definition in ``lang``: sections of (title, paragraph, items)."""
    tr = translator(lang)
    sections = tuple(
        (
            tr(s.title),
            tr(s.body) if s.body else "",
            tuple(tr(i) for i in s.items),
        )
        for s in consent.sections
    )
    parts = [tr(consent.title), tr(consent.controller)]
    for title, body, items in sections:
        parts += [title, body, *items]
    parts.append(tr(consent.question))
    summary = tuple(tr(t) for t in consent.summary)
    short = [tr(consent.title), *summary, tr(consent.question)]
    return ConsentView(
        version=consent.version,
        title=tr(consent.title),
        law=tr(consent.law),
        controller=tr(consent.controller),
        sections=sections,
        question=tr(consent.question),
        agree=tr(consent.agree),
        disagree=tr(consent.disagree),
        spoken=" ".join(p.rstrip(".") + "." for p in parts if p),
        summary=summary,
        spoken_summary=" ".join(p.rstrip(".") + "." for p in short if p) if summary else "",
    )


def default_form() -> FormDefinition:
    """The shipped questionnaire definition."""
    return load_form()


def default_consent() -> ConsentText:
    """The shipped consent text."""
    return load_consent()
