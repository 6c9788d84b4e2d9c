"""Words of the objection (sanggah) screens and of the status source, as lazy gettext strings."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

REASON: dict[str, LazyString] = {
    "wrong_data": _l("My data is wrong"),
    "situation_changed": _l("My situation has changed"),
    "not_eligible_wrong": _l("I need help but was refused"),
    "wrong_person": _l("This is not my registration"),
    "not_received": _l("I was chosen but got nothing"),
    "other": _l("Another reason"),
}
"""Objection reason code (kiosk.core.objection.REASONS) -> words under its picture."""

STATE: dict[str, LazyString] = {
    "waiting": _l("Saved on this kiosk, not yet sent to the office"),
    "received": _l("Received by the office"),
    "under_review": _l("The office is reviewing it"),
    "upheld": _l("Accepted: the office will correct the decision"),
    "rejected": _l("Not accepted"),
}
"""Objection state -> words on the status screen."""

REFUSAL: dict[str, LazyString] = {
    "not_decided": _l("An objection can be filed only after the office has decided."),
    "window_closed": _l(
        "The time to object to this decision has ended. Please ask at the village office."
    ),
    "already_open": _l(
        "You have already filed an objection to this decision. The office is handling it."
    ),
    "note_too_long": _l("The note is too long. Please shorten it to at most 500 letters."),
    "bad_reason": _l("Please choose one of the pictures."),
    "evidence_too_large": _l("The photo could not be kept. Please try again or skip it."),
}
"""ObjectionRefused code -> the spoken, translated reason."""

SOURCE_NOW: dict[str, LazyString] = {
    "portal": _l("This is the office's answer, just now (%(time)s)."),
    "offline": _l("The office could not be asked just now: this is this kiosk's own record."),
    "not_held": _l(
        "The office does not hold this registration yet: this is this kiosk's own record."
    ),
    "no_code": _l(
        "Without the registration number the office is not asked: this is this kiosk's own record."
    ),
}
"""Where a status view comes from: the portal now, or this kiosk's record and why not the
portal (``offline``, ``not_held``, ``no_code``: kiosk.services.status ``WHY``), said before the
kiosk's own source words (ui/texts.py ``SOURCE``)."""
