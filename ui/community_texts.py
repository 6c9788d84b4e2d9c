"""Words of the household report and proposal screens (the agents' and the villagers'), as
lazy gettext strings, and a refusal in words."""

from __future__ import annotations

import math

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from kiosk.errors import FormError, NikError, ReportLimited
from kiosk.reports.service import MAX_NOTE, PROPOSAL_REASONS, REPORT_REASONS

REPORT_TEXT: dict[str, tuple[str, LazyString]] = {
    "moved": ("home", _l("Moved away")),
    "deceased": ("death", _l("Passed away")),
    "well_off": ("car", _l("Well off now")),
    "other": ("other", _l("Another reason")),
}
"""Report reason -> (icon, words)."""

PROPOSAL_TEXT: dict[str, tuple[str, LazyString]] = {
    "bedridden": ("illness", _l("Bedridden or very ill")),
    "elderly_alone": ("elderly", _l("Elderly, living alone")),
    "disability": ("disability", _l("Disability")),
    "lost_income": ("job_loss", _l("Lost their income")),
    "disaster": ("disaster", _l("Hit by a disaster")),
    "other": ("other", _l("Another reason")),
}
"""Proposal reason -> (icon, words)."""

FIELD_ERRORS: dict[str, LazyString] = {
    "reason": _l("Choose a reason."),
    "reasons": _l("Choose at least one reason."),
    "note": _l("The note is too long: at most %(n)s letters."),
    "note_number": _l("Do not write a NIK or No. KK in the note."),
    "dusun": _l("Choose the dusun."),
    "rt": _l("Write the RT as a number, for example 3."),
    "name": _l("Write the name of the head of the household."),
    "letters": _l("Type at least %(n)s letters of the name of the head of the household."),
}
"""FormError field -> what the agent is told (and hears)."""

assert set(REPORT_TEXT) == set(REPORT_REASONS) and set(PROPOSAL_TEXT) == set(PROPOSAL_REASONS)


def refusal(err: Exception) -> str:
    """A refused report or proposal in words, for the screen and the voice."""
    if isinstance(err, ReportLimited):
        minutes = max(1, math.ceil(err.wait_s / 60))
        return _(
            "This person has sent many reports today. The next one can be sent in %(m)s minutes.",
            m=minutes,
        )
    if isinstance(err, NikError):
        return _("The reporter's NIK is not right. Check its 16 digits, or leave it empty.")
    if isinstance(err, FormError):
        return str(FIELD_ERRORS.get(err.field, _l("Please check the form."))) % {"n": MAX_NOTE}
    return _("This household is not on the list any more. Go back to the list.")
