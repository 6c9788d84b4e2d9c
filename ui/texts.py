"""User-visible texts chosen in Python, as lazy gettext strings (translated per request)."""

from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from kiosk.core.i18n import Translatable

COACHING: dict[str, LazyString] = {
    "ok": _l("Good, hold still."),
    "no_face": _l("Please look at the camera."),
    "multiple_faces": _l("Only one person in front of the camera, please."),
    "too_far": _l("Please come closer to the camera."),
    "too_close": _l("Please move back a little."),
    "off_center": _l("Put your face in the middle of the oval."),
    "look_straight": _l("Look straight at the camera."),
    "head_level": _l("Keep your head level."),
    "sunglasses": _l("Please take off your sunglasses."),
    "mask": _l("Please take off your mask."),
    "eyes_closed": _l("Please open your eyes."),
    "too_dark": _l("It is too dark. Please find more light."),
    "too_bright": _l("It is too bright. Please avoid direct light."),
    "backlight": _l("The light is behind you. Please move a little."),
    "glare": _l("Light is reflecting on your face. Please move a little."),
    "blurry": _l("Hold still for a moment."),
    "blink": _l("Please blink your eyes."),
    "turn_left": _l("Turn your head to the left."),
    "turn_right": _l("Turn your head to the right."),
    # the e-KTP step (kiosk.references.idcard)
    "no_card_face": _l("No card photo seen yet. Hold the e-KTP closer, photo towards the camera."),
    "card_too_small": _l("The card photo is too small. Hold the e-KTP closer to the camera."),
}
"""Coaching code (``kiosk.core.biometrics.Coaching``) -> one short instruction."""

STATUS: dict[str, LazyString] = {
    "waiting": _l("Waiting to be sent to the office"),
    "received": _l("Received by the office, being checked"),
    "verified": _l("Your data has been checked"),
    "eligible": _l("Eligible for assistance"),
    "not_eligible": _l("Not eligible for assistance"),
}
"""Portal status -> words for the villager."""

STATUS_NEXT: dict[str, LazyString] = {
    "waiting": _l("Nothing to do. The kiosk will send it when the internet is available."),
    "received": _l("Nothing to do. Please check again in a few weeks."),
    "verified": _l("Nothing to do. The decision will come later."),
    "eligible": _l("The village office will tell you when and where to collect the assistance."),
    "not_eligible": _l(
        "If you think this is wrong, you may object (sanggah): ask the village office or the "
        "agent here, and bring your KTP and your registration number."
    ),
}
"""Portal status -> the next step."""

STAGE: dict[str, LazyString] = {
    "saved": _l("Saved on this kiosk, not yet sent to the office"),
    "pending": _l("The office has your registration and will first check your face record"),
    "vouched": _l("The office has your registration; an agent confirmed who you are"),
    "review": _l("The office is checking your registration"),
}
"""Status stage (``kiosk.services.status.status_stage``) -> what it means, in plain words."""

STAGE_NEXT: dict[str, LazyString] = {
    "saved": _l(
        "Nothing to do. The kiosk sends it as soon as the network allows. Check again in a "
        "few days."
    ),
    "pending": _l(
        "Nothing to do now. If the office needs to see you, the village officer will tell you. "
        "Check again in two weeks."
    ),
    "vouched": _l(
        "Nothing to do now. The office reviews registrations confirmed by an agent before it "
        "decides. Check again in two weeks."
    ),
    "review": _l("Nothing to do. Please check again in a few weeks."),
}
"""Status stage -> the next step (decided registrations use STATUS_NEXT)."""

SOURCE: dict[str, LazyString] = {
    "portal": _l("This is the office's answer, received on %(date)s."),
    "kiosk": _l("This is what this kiosk knows. The office has not answered yet."),
}
"""Where the status comes from -> how the screen says it."""

VERIFICATION: dict[str, LazyString] = {
    "verified": _l("Face matched"),
    "pending": _l("Face recorded; the office will check it"),
    "vouched": _l("Confirmed by an agent"),
    "unverified": _l("Not yet confirmed"),
}
"""Registration verification value -> words."""


def lookup(table: dict[str, LazyString], code: str | None, fallback: str = "") -> str:
    """The translated text for ``code`` in ``table``, else ``fallback``."""
    if code is not None and code in table:
        return str(table[code])
    return fallback


def nik_message(err: Exception) -> str:
    """The person's explanation of a core error (a msgid with parameters: ``kiosk.core.nik``,
    ``kiosk.core.forms``) in the language of this request; other errors give their own text."""
    if isinstance(err, Translatable):
        return err.message(gettext)
    return str(err)
