"""The consent text (UU 27/2022 Pelindungan Data Pribadi) as versioned data.

``consent_v2.json`` holds the text a villager reads (and hears) before the registration is
sent: purpose, kinds of data, retention, rights, and what refusing means, in plain Indonesian
with English, and a plain-language ``summary`` that is spoken by default (<= 45 s of speech,
``tests/ui/test_consent_speech.py`` measures it); the full text is read on request and the
record says which one the person heard. Each registration records the ``version`` it was
given under; any change of wording or meaning needs a new file and version.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kiosk.core.forms.definition import (
    FormDefinitionError,
    Problems,
    Text,
    parse_text,
    read_json_resource,
)

DEFAULT_CONSENT = "consent_v2"
REQUIRED_SECTIONS: tuple[str, ...] = ("purpose", "data_kinds", "retention", "rights", "refusal")
"""Sections every consent text must have, in this order."""
VERSION_RE = re.compile(r"^consent_v[0-9]+$")
_NON_TEXT = frozenset({"version", "kiosk_retention_days", "sections", "summary"})
_TEXT_KEYS = ("law", "title", "controller", "question", "agree", "disagree")
TOP_KEYS = _NON_TEXT | frozenset(_TEXT_KEYS)
"""Keys of a consent definition."""


@dataclass(frozen=True)
class ConsentSection:
    """One part of the consent text: a title, an optional paragraph and optional bullet items."""

    id: str
    title: Text
    body: Text | None
    items: tuple[Text, ...]


@dataclass(frozen=True)
class ConsentText:
    """A versioned consent text; ``version`` is stored with each registration."""

    version: str
    law: Text
    title: Text
    controller: Text
    kiosk_retention_days: int
    """Days the kiosk keeps a record after the portal confirmed it, as the text promises."""
    sections: tuple[ConsentSection, ...]
    question: Text
    agree: Text
    disagree: Text
    summary: tuple[Text, ...] = ()
    """Plain-language sentences spoken by default; empty: the full text is spoken."""

    def section(self, section_id: str) -> ConsentSection | None:
        """The section with this id, or None."""
        return next((s for s in self.sections if s.id == section_id), None)

    def texts(self) -> list[Text]:
        """Every msgid of the consent (summary and full text)."""
        texts = [self.law, self.title, self.controller, self.question, self.agree, self.disagree]
        for s in self.sections:
            texts.append(s.title)
            if s.body:
                texts.append(s.body)
            texts.extend(s.items)
        texts.extend(self.summary)
        return texts


def _section(value: Any, path: str, problems: Problems) -> ConsentSection | None:
    raw = problems.obj(value, path, ("id", "title", "body", "items"))
    if raw is None:
        return None
    sid = raw.get("id")
    if not isinstance(sid, str) or not sid:
        problems.add(f"{path}.id", "must be a non-empty string")
        sid = "?"
    body = parse_text(raw["body"], f"{path}.body", problems) if "body" in raw else None
    items_raw = raw.get("items", [])
    if not isinstance(items_raw, list):
        problems.add(f"{path}.items", "must be a list")
        items_raw = []
    items = tuple(parse_text(it, f"{path}.items[{i}]", problems) for i, it in enumerate(items_raw))
    if body is None and not items:
        problems.add(path, "needs a body or items")
    return ConsentSection(sid, parse_text(raw.get("title"), f"{path}.title", problems), body, items)


def parse_consent(data: Any) -> ConsentText:
    """Build a :class:`ConsentText` from decoded JSON, or raise listing every problem."""
    problems = Problems()
    if not isinstance(data, Mapping):
        raise FormDefinitionError("consent definition must be a JSON object", ["$: not an object"])
    problems.unknown_keys(data, "$", TOP_KEYS)
    version = data.get("version")
    if not isinstance(version, str) or not VERSION_RE.match(version):
        problems.add("version", f"must match {VERSION_RE.pattern}, got {version!r}")
        version = "?"
    days = data.get("kiosk_retention_days")
    if isinstance(days, bool) or not isinstance(days, int) or days < 0:
        problems.add("kiosk_retention_days", f"must be a whole number of days, got {days!r}")
        days = 0
    sections_raw = data.get("sections")
    if not isinstance(sections_raw, list):
        problems.add("sections", "must be a list")
        sections_raw = []
    sections = [_section(s, f"sections[{i}]", problems) for i, s in enumerate(sections_raw)]
    present = [s.id for s in sections if s is not None]
    if present != list(REQUIRED_SECTIONS):
        problems.add("sections", f"must be {list(REQUIRED_SECTIONS)} in order, got {present}")
    texts = {k: parse_text(data.get(k), k, problems) for k in _TEXT_KEYS}
    summary_raw = data.get("summary", [])
    if not isinstance(summary_raw, list):
        problems.add("summary", "must be a list")
        summary_raw = []
    summary = tuple(parse_text(it, f"summary[{i}]", problems) for i, it in enumerate(summary_raw))
    if problems.items:
        raise FormDefinitionError(
            f"consent definition has {len(problems.items)} problem(s): {problems.items[0]}",
            problems.items,
        )
    return ConsentText(
        version=version,
        kiosk_retention_days=days,
        sections=tuple(s for s in sections if s is not None),
        summary=summary,
        **texts,
    )


@functools.cache
def load_consent(name: str = DEFAULT_CONSENT) -> ConsentText:
    """The shipped consent text ``<name>.json``, parsed and checked once, then cached."""
    return parse_consent(read_json_resource(name))
