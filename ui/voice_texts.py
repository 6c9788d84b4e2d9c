"""Words of the spoken-note screens (kiosk.services.voice), as lazy gettext strings."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

VOICE_ERROR: dict[str, LazyString] = {
    "no_microphone": _l("No microphone is working here. You can type your note, or skip it."),
    "microphone_busy": _l(
        "The microphone is busy just now. Please try again in a moment, or type your note."
    ),
    "microphone_failed": _l("The microphone did not work. You can type your note, or skip it."),
    "voice_bad": _l("The microphone did not work. You can type your note, or skip it."),
    "voice_empty": _l("Nothing was heard. Please speak closer to the microphone and try again."),
    "voice_too_long": _l("The spoken note is too long. Please record a shorter one."),
}
"""VoiceNoteError code -> the spoken, translated reason (the typed note always stays open)."""
