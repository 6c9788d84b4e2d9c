"""Objections (sanggah) to a decision: the reasons offered, the window, the note's bound.

Pure rules, used by the objection service (kiosk/services/objection.py) and shown by the UI;
the portal checks the window and duplicates again (portal/status_desk.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.errors import ObjectionRefused

REASONS: tuple[str, ...] = (
    "wrong_data",
    "situation_changed",
    "not_eligible_wrong",
    "wrong_person",
    "not_received",
    "other",
)
"""Reason categories, in screen order; each has a picture ``ui/static/icons/objection_<code>.svg``
and words in ui/texts.py ``OBJECTION_REASON`` (the schema objection.json lists the same)."""

NOTE_MAX_CHARS = 500
"""A typed note is at most this long (the schema's maxLength)."""

DEFAULT_WINDOW_DAYS = 30
"""Objection window after a decision when the portal's signed config names none."""

DAY_S = 86400.0

REFUSALS: tuple[str, ...] = (
    "not_decided",
    "window_closed",
    "already_open",
    "note_too_long",
    "bad_reason",
    "evidence_too_large",
)
"""Codes of :class:`ObjectionRefused`; each has a spoken, translated reason in the UI."""


@dataclass(frozen=True)
class Window:
    """When an objection to one decision may be filed."""

    decided_at: float
    closes_at: float

    def open_at(self, now: float) -> bool:
        """True while an objection may still be filed."""
        return now <= self.closes_at


def window_for(decided_at: float, days: int) -> Window:
    """The objection window of a decision made at ``decided_at`` (wall seconds)."""
    return Window(decided_at, decided_at + days * DAY_S)


def check_reason(code: str) -> str:
    """The reason code, or ObjectionRefused('bad_reason')."""
    if code not in REASONS:
        raise ObjectionRefused(f"unknown objection reason {code[:40]!r}", "bad_reason")
    return code


def clean_note(text: str | None) -> str | None:
    """The note trimmed (None when empty); ObjectionRefused('note_too_long') above the bound."""
    if text is None:
        return None
    note = " ".join(text.replace("\r", " ").replace("\n", " ").split())
    if len(note) > NOTE_MAX_CHARS:
        raise ObjectionRefused(
            f"the note has {len(note)} characters, at most {NOTE_MAX_CHARS}", "note_too_long"
        )
    return note or None
