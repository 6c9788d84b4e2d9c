"""Turn a versioned form definition (``kiosk.core.forms``) into screens, generically.

One visible question per screen (one action per screen, and it fits 800x480); answers are
checked with the core's :func:`~kiosk.core.forms.validate_question` one at a time, so each
failure is shown beside its own question. The definition's texts are data (Indonesian and
English); nothing here knows any particular question.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kiosk.core.forms import (
    AnswerInvalid,
    ConsentText,
    FormDefinition,
    Question,
    is_visible,
    load_consent,
    load_form,
    summary_rows,
    validate_question,
)

WIDGETS: dict[str, str] = {
    "single": "choice",
    "yesno": "choice",
    "multi": "multi",
    "integer": "number",
    "text": "text",
}
"""Question kind -> the template widget that renders it."""


def _lang(lang: str) -> str:
    """The definition language for a UI language (regional languages read Indonesian)."""
    return "en" if lang == "en" else "id"


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
    """One screen of the questionnaire: its page and its question."""

    page_id: str
    title: str
    questions: tuple[QuestionView, ...]
    number: int = 0
    """The question's number for "Question n of total": a follow-up question (``show_if``)
    shares the number of the question it follows, so the count never jumps."""
    total: int = 0
    """How many numbered (not follow-up) questions the form has: fixed for the whole visit."""


def question_view(q: Question, lang: str) -> QuestionView:
    """A question's texts in ``lang`` and the widget that renders it."""
    lg = _lang(lang)
    return QuestionView(
        id=q.id,
        widget=WIDGETS.get(q.kind, "choice"),
        label=q.label.get(lg),
        hint=q.help.get(lg) if q.help else "",
        icon=q.icon,
        options=tuple(OptionView(o.code, o.label.get(lg), o.icon) for o in q.choices()),
        minimum=q.min,
        maximum=q.max,
        unit=q.unit.get(lg) if q.unit else "",
        max_length=q.max_length,
        required=q.required,
        numeric=bool(q.pattern and re.fullmatch(r"(\[0-9\]|\\d)[{0-9,}*+]*", q.pattern)),
        unit_one=q.unit_one.get(lg) if q.unit_one else "",
    )


def screens(form: FormDefinition, lang: str, answers: Mapping[str, Any]) -> list[ScreenView]:
    """The questionnaire's screens given the answers so far (one visible question each)."""
    out: list[ScreenView] = []
    lg = _lang(lang)
    total = sum(1 for q in form.questions() if q.show_if is None)
    number = 0
    for page in form.pages:
        for q in page.questions:
            number += q.show_if is None
            if is_visible(q, answers):
                view = (question_view(q, lang),)
                out.append(ScreenView(page.id, page.title.get(lg), view, max(number, 1), total))
    return out


def raw_value(q: QuestionView, raw: Any) -> Any:
    """The submitted raw value for one question (a list for multi-choice)."""
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
    lg = _lang(lang)
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    known: dict[str, Any] = dict(previous or {})
    for q in view.questions:
        # One question at a time, with every earlier answer (this screen's too) for show_if.
        try:
            value = validate_question(form, q.id, raw_value(q, raw), known, today)
        except AnswerInvalid as err:
            errors[q.id] = err.message(lg)  # type: ignore[arg-type]
            continue
        if value is not None:
            values[q.id] = known[q.id] = value
    return values, errors


def finalise(form: FormDefinition, answers: Mapping[str, Any]) -> dict[str, Any]:
    """The answers to store: only those of questions visible with these answers."""
    visible = {q.id for q in form.questions() if is_visible(q, answers)}
    return {k: v for k, v in answers.items() if k in visible}


def review_rows(
    form: FormDefinition, answers: Mapping[str, Any], lang: str
) -> list[tuple[str, str, int]]:
    """(question, answer in words, its screen number) for the review screen, in form order."""
    order = {v.questions[0].id: i for i, v in enumerate(screens(form, lang, answers))}
    rows = summary_rows(form, answers, _lang(lang))  # type: ignore[arg-type]
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
    lg = _lang(lang)
    sections = tuple(
        (
            s.title.get(lg),
            s.body.get(lg) if s.body else "",
            tuple(i.get(lg) for i in s.items),
        )
        for s in consent.sections
    )
    parts = [consent.title.get(lg), consent.controller.get(lg)]
    for title, body, items in sections:
        parts += [title, body, *items]
    parts.append(consent.question.get(lg))
    summary = tuple(t.get(lg) for t in consent.summary)
    short = [consent.title.get(lg), *summary, consent.question.get(lg)]
    return ConsentView(
        version=consent.version,
        title=consent.title.get(lg),
        law=consent.law.get(lg),
        controller=consent.controller.get(lg),
        sections=sections,
        question=consent.question.get(lg),
        agree=consent.agree.get(lg),
        disagree=consent.disagree.get(lg),
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
