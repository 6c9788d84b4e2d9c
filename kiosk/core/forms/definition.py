"""Questionnaire definitions as data: the model, and loading with every problem listed.

A definition is a JSON file in this package (``household_v1.json``): a form id and integer
version, then ordered pages of at most :data:`MAX_QUESTIONS_PER_PAGE` questions. Each question
has a kind from :data:`KIND_KEYS`, a label (an English gettext msgid: the translations live in
the catalogues, ``ui/translations``), and kind-specific settings; choice options carry a
stable ``code`` and an ``icon`` (the UI shows ``static/icons/<icon>.svg``). ``show_if`` makes
a question depend on an earlier answer. :func:`parse_form` checks all of this and raises
:class:`FormDefinitionError` listing every problem found.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

from kiosk.core.forms.checks import CHECKS
from kiosk.core.i18n import N_
from kiosk.errors import KioskError

FORMS_PACKAGE = "kiosk.core.forms"
DEFAULT_FORM = "household_v2"
MAX_QUESTIONS_PER_PAGE = 3
SHARED_SCREEN_KINDS = frozenset({"integer", "yesno", "text"})
"""Kinds a ``one_screen`` page may hold: a stepper, a yes/no pair or a text field each, so up
to three of them fit one 800x480 screen with 48 px targets (choice lists need a screen; the
number keypad serves the one typed text field a shared screen may hold)."""

CHOICE_LISTS = frozenset({"dusun"})
"""Run-time lists a ``text`` question may take its choices from (``choices_from``): the
village's dusun (hamlets), from the portal's signed village list or provisioning. With a list,
:meth:`FormDefinition.with_choices` makes the question a choice of its names; without one, the
name is typed."""

Kind = Literal["single", "multi", "integer", "yesno", "text", "members"]

NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
"""Form, page, question and option codes: lower-case ASCII, digits and underscores."""
ICON_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
"""Icon names: become ``static/icons/<icon>.svg``."""

COMMON_KEYS = frozenset({"id", "kind", "label", "help", "icon", "required", "show_if"})
"""Keys every question kind takes."""
KIND_KEYS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    # kind: (required keys, optional keys) besides COMMON_KEYS
    "single": (frozenset({"options"}), frozenset()),
    "multi": (frozenset({"options"}), frozenset({"min_choices", "max_choices"})),
    "integer": (frozenset({"min", "max"}), frozenset({"unit", "unit_one", "part_of"})),
    "yesno": (frozenset(), frozenset()),
    "text": (
        frozenset({"max_length"}),
        frozenset({"pattern", "pattern_message", "strip", "check", "choices_from"}),
    ),
    "members": (frozenset(), frozenset()),
}
"""Which keys each question kind takes."""


class FormDefinitionError(KioskError, ValueError):
    """A form or consent definition file is malformed; ``problems`` lists every fault."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


Text = str
"""A text of a definition: an English gettext msgid, translated at the edge with the catalogues
(``ui/translations``); the definition files carry no translations."""


@dataclass(frozen=True)
class Option:
    """One answer choice: stable ``code``, pictogram ``icon``, label; ``exclusive`` = "none"."""

    code: str
    icon: str
    label: Text
    exclusive: bool = False


YES_NO_OPTIONS: tuple[Option, ...] = (
    Option("yes", "yes", N_("Yes")),
    Option("no", "no", N_("No")),
)
"""The implicit options of a ``yesno`` question; its cleaned answer is a bool."""


@dataclass(frozen=True)
class ShowIf:
    """Show a question only when an earlier answer matches.

    ``any_of``: the earlier answer (choice code, one of a multi answer, or ``yes``/``no``) is
    one of these codes. ``at_least``: the earlier integer answer is at least this number.
    """

    question: str
    any_of: tuple[str, ...] = ()
    at_least: int | None = None


@dataclass(frozen=True)
class Question:
    """One question; fields unused by its ``kind`` keep their defaults."""

    id: str
    kind: Kind
    label: Text
    help: Text | None = None
    icon: str | None = None
    required: bool = True
    show_if: ShowIf | None = None
    options: tuple[Option, ...] = ()
    min_choices: int | None = None
    max_choices: int | None = None
    min: int | None = None
    max: int | None = None
    unit: Text | None = None
    unit_one: Text | None = None
    """The unit after the number 1 ("1 person"); ``unit`` after any other number ("2 people")."""
    part_of: str | None = None
    """An earlier integer question this count is part of: the answers of every question that is
    ``part_of`` the same total, added up, may not exceed that total (children + elderly <= the
    people on the family card)."""
    max_length: int | None = None
    pattern: str | None = None
    pattern_message: Text | None = None
    strip: str = ""
    check: str | None = None
    """Name of a content check in :data:`kiosk.core.forms.checks.CHECKS` (text questions)."""
    choices_from: str | None = None
    """A run-time list of :data:`CHOICE_LISTS` the answer is chosen from, when the kiosk has
    it (text questions; the stored answer is the chosen name either way)."""

    @property
    def required_answer(self) -> bool:
        """True when the question must be answered (a member list always: one head at least)."""
        return self.required or self.kind == "members"

    def choices(self) -> tuple[Option, ...]:
        """The options a person picks from (yes/no for ``yesno``)."""
        return YES_NO_OPTIONS if self.kind == "yesno" else self.options

    def option(self, code: str) -> Option | None:
        """The option with this code, or None."""
        return next((o for o in self.choices() if o.code == code), None)


@dataclass(frozen=True)
class Page:
    """A titled section of up to three questions; ``one_screen`` asks them on one screen."""

    id: str
    title: Text
    questions: tuple[Question, ...]
    one_screen: bool = False


@dataclass(frozen=True)
class FormDefinition:
    """A versioned questionnaire: ``form_id``, integer ``version``, ordered pages."""

    form_id: str
    version: int
    title: Text
    pages: tuple[Page, ...]

    @property
    def version_id(self) -> str:
        """``<form_id>_v<version>``, recorded with each registration."""
        return f"{self.form_id}_v{self.version}"

    def page(self, page_id: str) -> Page | None:
        """The page with this id, or None."""
        return next((p for p in self.pages if p.id == page_id), None)

    def screens(self) -> Iterator[tuple[Page, tuple[Question, ...]]]:
        """The screens in order, each with its page: a ``one_screen`` page is one screen,
        any other page gives one screen per question."""
        for page in self.pages:
            if page.one_screen:
                yield page, page.questions
            else:
                for q in page.questions:
                    yield page, (q,)

    def questions(self) -> Iterator[Question]:
        """Every question in page order."""
        for page in self.pages:
            yield from page.questions

    def question(self, question_id: str) -> Question | None:
        """The question with this id, or None."""
        return next((q for q in self.questions() if q.id == question_id), None)

    def icons(self) -> set[str]:
        """Every icon name the form uses (each needs ``static/icons/<icon>.svg``)."""
        names: set[str] = set()
        for q in self.questions():
            if q.icon:
                names.add(q.icon)
            names.update(o.icon for o in q.choices())
        return names

    def with_choices(self, lists: Mapping[str, tuple[str, ...]]) -> FormDefinition:
        """This form with each ``choices_from`` question whose list in ``lists`` is not empty
        asked as a choice of those names (code and label are the name: what is stored and
        counted is the same as when it is typed)."""
        return _with_choices(self, tuple(sorted((k, tuple(v)) for k, v in lists.items() if v)))

    def texts(self) -> list[Text]:
        """Every msgid of the form: titles, labels, help, units, messages, option labels."""
        texts: list[Text] = [self.title]
        for page in self.pages:
            texts.append(page.title)
            for q in page.questions:
                texts.extend(
                    t for t in (q.label, q.help, q.unit, q.unit_one, q.pattern_message) if t
                )
                texts.extend(o.label for o in q.choices())
        return texts


@functools.lru_cache(maxsize=8)
def _with_choices(
    form: FormDefinition, lists: tuple[tuple[str, tuple[str, ...]], ...]
) -> FormDefinition:
    found = dict(lists)

    def bound(q: Question) -> Question:
        names = found.get(q.choices_from or "")
        if q.kind != "text" or not names:
            return q
        options = tuple(Option(name, "home", name) for name in names)
        return dataclasses.replace(q, kind="single", options=options)

    pages = tuple(
        dataclasses.replace(p, questions=tuple(bound(q) for q in p.questions)) for p in form.pages
    )
    return dataclasses.replace(form, pages=pages)


# --- parsing --------------------------------------------------------------------------------
class Problems:
    """Collects definition problems, each with its JSON path."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, path: str, message: str) -> None:
        """Record ``message`` about the value at ``path``."""
        self.items.append(f"{path}: {message}")

    def unknown_keys(self, value: Mapping[str, Any], path: str, keys: Collection[str]) -> None:
        """Record the keys of the object at ``path`` that are not among ``keys``."""
        extra = set(value) - set(keys)
        if extra:
            self.add(path, f"unknown keys {sorted(extra)}")

    def obj(self, value: Any, path: str, keys: Collection[str]) -> Mapping[str, Any] | None:
        """``value`` if it is an object (its unknown keys recorded); else None, recorded."""
        if not isinstance(value, Mapping):
            self.add(path, "must be an object")
            return None
        self.unknown_keys(value, path, keys)
        return value

    def objects(
        self, items: list[Any], path: str, keys: Collection[str]
    ) -> Iterator[tuple[str, Mapping[str, Any]]]:
        """Each item of the list at ``path`` that is an object, with its own path."""
        for i, item in enumerate(items):
            raw = self.obj(item, f"{path}[{i}]", keys)
            if raw is not None:
                yield f"{path}[{i}]", raw


def parse_text(value: Any, path: str, problems: Problems) -> Text:
    """A text (an English msgid, translated through the catalogues); faults go to ``problems``."""
    if not isinstance(value, str) or not value.strip():
        problems.add(
            path,
            "must be a non-empty English text (its translations go in ui/translations/"
            "<language>/LC_MESSAGES/messages.po, not in the definition)",
        )
        return "?"
    return value


def _name(value: Any, path: str, problems: Problems, regex: re.Pattern[str] = NAME_RE) -> str:
    """A code or icon name matching ``regex``."""
    if not isinstance(value, str) or not regex.match(value):
        problems.add(path, f"must match {regex.pattern}, got {value!r}")
        return "?"
    return value


def _unique_name(value: Any, path: str, problems: Problems, seen: set[str], what: str) -> str:
    """A code (see :func:`_name`) not among ``seen``, which it joins."""
    name = _name(value, path, problems)
    if name in seen:
        problems.add(path, f"duplicate {what} {name!r}")
    seen.add(name)
    return name


def _int(value: Any, path: str, problems: Problems, minimum: int | None = None) -> int | None:
    """An integer (not a bool), at least ``minimum`` if given."""
    if isinstance(value, bool) or not isinstance(value, int):
        problems.add(path, f"must be an integer, got {value!r}")
        return None
    if minimum is not None and value < minimum:
        problems.add(path, f"must be at least {minimum}, got {value}")
        return None
    return value


def _options(value: Any, path: str, problems: Problems) -> tuple[Option, ...]:
    """At least two options with unique codes."""
    if not isinstance(value, list) or len(value) < 2:
        problems.add(path, "must be a list of at least 2 options")
        return ()
    out: list[Option] = []
    seen: set[str] = set()
    for opath, raw in problems.objects(value, path, ("code", "icon", "label", "exclusive")):
        code = _unique_name(raw.get("code"), f"{opath}.code", problems, seen, "option code")
        icon = _name(raw.get("icon"), f"{opath}.icon", problems, ICON_RE)
        label = parse_text(raw.get("label"), f"{opath}.label", problems)
        exclusive = raw.get("exclusive", False)
        if not isinstance(exclusive, bool):
            problems.add(f"{opath}.exclusive", "must be true or false")
            exclusive = False
        out.append(Option(code, icon, label, exclusive))
    return tuple(out)


def _show_if(
    value: Any, path: str, problems: Problems, earlier: Mapping[str, Question]
) -> ShowIf | None:
    """A condition on an earlier question, checked against that question's kind and options."""
    if not isinstance(value, Mapping) or "question" not in value:
        problems.add(path, 'must be {"question": ID, "any_of": [CODES]} or {"at_least": N}')
        return None
    problems.unknown_keys(value, path, ("question", "any_of", "at_least"))
    target = earlier.get(value["question"])
    if target is None:
        problems.add(f"{path}.question", f"{value['question']!r} is not an earlier question")
        return None
    if target.kind == "integer":
        at_least = _int(value.get("at_least"), f"{path}.at_least", problems)
        if "any_of" in value:
            problems.add(path, "an integer question is tested with at_least, not any_of")
        return ShowIf(target.id, at_least=at_least)
    if target.kind in ("text", "members"):
        problems.add(f"{path}.question", f"cannot depend on a {target.kind} answer")
        return None
    codes = value.get("any_of")
    if not isinstance(codes, list) or not codes:
        problems.add(f"{path}.any_of", "must be a non-empty list of option codes")
        return None
    for code in codes:
        if target.option(code) is None:
            problems.add(f"{path}.any_of", f"{code!r} is not an option of {target.id!r}")
    if "at_least" in value:
        problems.add(path, "a choice question is tested with any_of, not at_least")
    return ShowIf(target.id, any_of=tuple(str(c) for c in codes))


def _kind_settings(
    kind: str, raw: Mapping[str, Any], path: str, problems: Problems
) -> dict[str, Any]:
    """The kind-specific fields of a question, checked."""
    out: dict[str, Any] = {}
    if kind in ("single", "multi"):
        out["options"] = _options(raw.get("options"), f"{path}.options", problems)
        for key in ("min_choices", "max_choices"):
            if key in raw:
                out[key] = _int(raw[key], f"{path}.{key}", problems, minimum=1)
        lo, hi = out.get("min_choices") or 1, out.get("max_choices") or len(out["options"])
        if out["options"] and not lo <= hi <= len(out["options"]):
            problems.add(path, "need 1 <= min_choices <= max_choices <= number of options")
        if kind == "single" and any(o.exclusive for o in out["options"]):
            problems.add(f"{path}.options", "exclusive is only for multi-choice questions")
    elif kind == "integer":
        lo = _int(raw.get("min"), f"{path}.min", problems)
        hi = _int(raw.get("max"), f"{path}.max", problems)
        if lo is not None and hi is not None and lo > hi:
            problems.add(path, f"min {lo} is greater than max {hi}")
        out.update(min=lo, max=hi)
        if "unit" in raw:
            out["unit"] = parse_text(raw["unit"], f"{path}.unit", problems)
        if "unit_one" in raw:
            if "unit" not in raw:
                problems.add(path, "unit_one needs a unit for the other numbers")
            out["unit_one"] = parse_text(raw["unit_one"], f"{path}.unit_one", problems)
        if "part_of" in raw:
            out["part_of"] = raw["part_of"]
    elif kind == "text":
        out["max_length"] = _int(raw.get("max_length"), f"{path}.max_length", problems, 1)
        pattern = raw.get("pattern")
        if pattern is not None:
            try:
                re.compile(pattern)
            except (re.error, TypeError) as err:
                problems.add(f"{path}.pattern", f"not a regular expression: {err}")
            if "pattern_message" not in raw:
                problems.add(path, "a pattern needs a pattern_message saying what is expected")
            out["pattern"] = pattern
        if "pattern_message" in raw:
            out["pattern_message"] = parse_text(
                raw["pattern_message"], f"{path}.pattern_message", problems
            )
        strip = raw.get("strip", "")
        if not isinstance(strip, str):
            problems.add(f"{path}.strip", "must be a string of characters to remove")
            strip = ""
        out["strip"] = strip
        if "check" in raw:
            if raw["check"] not in CHECKS:
                problems.add(f"{path}.check", f"must be one of {sorted(CHECKS)}")
            out["check"] = raw["check"]
        if "choices_from" in raw:
            if raw["choices_from"] not in CHOICE_LISTS:
                problems.add(f"{path}.choices_from", f"must be one of {sorted(CHOICE_LISTS)}")
            out["choices_from"] = raw["choices_from"]
    return out


def _question(
    raw: Any, path: str, problems: Problems, earlier: Mapping[str, Question]
) -> Question | None:
    """One question, checked; None if too broken to use."""
    if not isinstance(raw, Mapping):
        problems.add(path, "must be an object")
        return None
    kind = raw.get("kind")
    if kind not in KIND_KEYS:
        problems.add(f"{path}.kind", f"must be one of {sorted(KIND_KEYS)}, got {kind!r}")
        return None
    required_keys, optional_keys = KIND_KEYS[kind]
    missing = (required_keys | {"id", "label"}) - set(raw)
    if missing:
        problems.add(path, f"missing keys {sorted(missing)}")
    extra = set(raw) - COMMON_KEYS - required_keys - optional_keys
    if extra:
        problems.add(path, f"unknown keys for a question of kind {kind}: {sorted(extra)}")
    qid = _name(raw.get("id"), f"{path}.id", problems)
    fields: dict[str, Any] = {
        "id": qid,
        "kind": kind,
        "label": parse_text(raw.get("label"), f"{path}.label", problems),
    }
    if "help" in raw:
        fields["help"] = parse_text(raw["help"], f"{path}.help", problems)
    if "icon" in raw:
        fields["icon"] = _name(raw["icon"], f"{path}.icon", problems, ICON_RE)
    required = raw.get("required", True)
    if not isinstance(required, bool):
        problems.add(f"{path}.required", "must be true or false")
        required = True
    fields["required"] = required
    if "show_if" in raw:
        fields["show_if"] = _show_if(raw["show_if"], f"{path}.show_if", problems, earlier)
    fields.update(_kind_settings(kind, raw, path, problems))
    total = fields.get("part_of")
    if total is not None:
        target = earlier.get(total) if isinstance(total, str) else None
        if target is None or target.kind != "integer":
            problems.add(f"{path}.part_of", "must name an earlier integer question")
    return Question(**fields)


def _one_screen(value: Any, path: str, questions: list[Question], problems: Problems) -> bool:
    """A page's ``one_screen`` flag, checked: only steppers, yes/no and text questions (one
    typed at most), and no question that depends on another of the same screen (the screen is
    shown whole)."""
    if not isinstance(value, bool):
        problems.add(f"{path}.one_screen", "must be true or false")
        return False
    if not value:
        return False
    ids = {q.id for q in questions}
    if sum(q.kind == "text" and q.choices_from is None for q in questions) > 1:
        problems.add(f"{path}.questions", "a one_screen page holds one typed text at most")
    for qi, q in enumerate(questions):
        if q.kind not in SHARED_SCREEN_KINDS:
            problems.add(
                f"{path}.questions[{qi}].kind",
                f"a one_screen page holds only {sorted(SHARED_SCREEN_KINDS)} questions",
            )
        if q.show_if is not None and q.show_if.question in ids:
            problems.add(
                f"{path}.questions[{qi}].show_if",
                "cannot depend on a question of the same one_screen page",
            )
    return True


def parse_form(data: Any) -> FormDefinition:
    """Build a :class:`FormDefinition` from decoded JSON, or raise listing every problem."""
    problems = Problems()
    if not isinstance(data, Mapping):
        raise FormDefinitionError("form definition must be a JSON object", ["$: not an object"])
    problems.unknown_keys(data, "$", ("form_id", "version", "title", "pages"))
    form_id = _name(data.get("form_id"), "form_id", problems)
    version = _int(data.get("version"), "version", problems, minimum=1) or 0
    title = parse_text(data.get("title"), "title", problems)
    pages_raw = data.get("pages")
    if not isinstance(pages_raw, list) or not pages_raw:
        problems.add("pages", "must be a non-empty list")
        pages_raw = []
    pages: list[Page] = []
    earlier: dict[str, Question] = {}
    page_ids: set[str] = set()
    for ppath, praw in problems.objects(
        pages_raw, "pages", ("id", "title", "questions", "one_screen")
    ):
        pid = _unique_name(praw.get("id"), f"{ppath}.id", problems, page_ids, "page id")
        qraws = praw.get("questions")
        if not isinstance(qraws, list) or not 1 <= len(qraws) <= MAX_QUESTIONS_PER_PAGE:
            problems.add(f"{ppath}.questions", f"must list 1 to {MAX_QUESTIONS_PER_PAGE} questions")
            qraws = qraws if isinstance(qraws, list) else []
        questions: list[Question] = []
        for qi, qraw in enumerate(qraws):
            question = _question(qraw, f"{ppath}.questions[{qi}]", problems, earlier)
            if question is None:
                continue
            if question.id in earlier:
                problems.add(f"{ppath}.questions[{qi}].id", f"duplicate id {question.id!r}")
            earlier[question.id] = question
            questions.append(question)
        one_screen = _one_screen(praw.get("one_screen", False), ppath, questions, problems)
        ptitle = parse_text(praw.get("title"), f"{ppath}.title", problems)
        pages.append(Page(pid, ptitle, tuple(questions), one_screen))
    if problems.items:
        raise FormDefinitionError(
            f"form definition has {len(problems.items)} problem(s): {problems.items[0]}",
            problems.items,
        )
    return FormDefinition(form_id, version, title, tuple(pages))


def read_json_resource(name: str) -> Any:
    """Decode ``<name>.json`` from this package; raise :class:`FormDefinitionError` if bad."""
    resource = resources.files(FORMS_PACKAGE).joinpath(f"{name}.json")
    try:
        return json.loads(resource.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise FormDefinitionError(f"no definition named {name!r}", [str(err)]) from err
    except json.JSONDecodeError as err:
        raise FormDefinitionError(f"{name}.json is not valid JSON: {err}", [str(err)]) from err


@functools.cache
def load_form(name: str = DEFAULT_FORM) -> FormDefinition:
    """The shipped questionnaire ``<name>.json``, parsed and checked once, then cached."""
    return parse_form(read_json_resource(name))
