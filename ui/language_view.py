"""The language choice screen, derived from the registry (:mod:`kiosk.languages`).

Each language is shown and spoken in itself: its button carries its native name and ``lang``,
and its spoken line ("Choose your language. Basa Jawa.") is rendered in that language's own
catalogue and voice, so a person who reads none of the others still hears their own language.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import url_for

from kiosk import languages
from kiosk.core.i18n import N_
from kiosk.services.ports import SpeechSynth

CHOOSE = N_("Choose your language")
"""Said in each language before its name; also the screen's title (in the current language)."""


@dataclass(frozen=True)
class LanguageChoice:
    """One button of the language screen."""

    code: str
    native_name: str
    direction: str
    spoken: str
    """What the button's clip says, in its own language."""
    speech_url: str
    """URL of that clip ("" without speech)."""


def language_choices(codes: tuple[str, ...], speech: SpeechSynth | None) -> list[LanguageChoice]:
    """The buttons of the language screen, in registry order, each spoken in itself."""
    out = []
    for code in codes:
        lang = languages.BY_CODE[code]
        spoken = f"{languages.translator(code)(CHOOSE)}. {lang.native_name}."
        key = speech.register(spoken, code) if speech is not None else None
        url = url_for("villager.speech", key=key) if key else ""
        out.append(LanguageChoice(code, lang.native_name, lang.direction, spoken, url))
    return out
