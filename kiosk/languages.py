"""The language registry: every language the kiosk speaks is declared here, once.

A new language is one line in :data:`LANGUAGES` plus its catalogue folder
``ui/translations/<code>/LC_MESSAGES/messages.po`` (compiled ``messages.mo`` beside it). The
configuration's choices (``[ui] language``), the language screen, the ``<html lang dir>`` of
every page and the spoken prompts' espeak-ng voice all derive from this table.
"""

from __future__ import annotations

import functools
import gettext
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from kiosk.core.i18n import Translate

CATALOGUES = Path(__file__).resolve().parents[1] / "ui" / "translations"
"""The gettext catalogues (one domain, ``messages``), shared by the UI and the CLI."""
DOMAIN = "messages"


@dataclass(frozen=True)
class Language:
    """One language: its code (gettext folder, ``<html lang>``), its name in itself, its voice."""

    code: str
    native_name: str
    """The language named in itself, as the language screen shows and speaks it."""
    voice: str
    """espeak-ng voice (``espeak-ng --voices``) that speaks this language's prompts."""
    direction: Literal["ltr", "rtl"] = "ltr"
    decimal_mark: str = ","
    """Decimal separator of numbers shown to the person."""


LANGUAGES: tuple[Language, ...] = (
    Language("id", "Bahasa Indonesia", voice="id"),
    Language("jv", "Basa Jawa", voice="id"),  # no Javanese voice in espeak-ng: docs/ui.md
    Language("en", "English", voice="en", decimal_mark="."),
)
"""Every language, in the order of the language screen; the first is the default."""

DEFAULT = LANGUAGES[0].code
BY_CODE: dict[str, Language] = {lang.code: lang for lang in LANGUAGES}
CODES: tuple[str, ...] = tuple(BY_CODE)


def language(code: str | None) -> Language:
    """The registered language ``code``, else the default one."""
    return BY_CODE.get(code or "", BY_CODE[DEFAULT])


def check_code(code: str) -> str:
    """``code`` if it is a registered language; ValueError naming the choices otherwise."""
    if code not in BY_CODE:
        raise ValueError(f"unknown language {code!r}; choose one of {', '.join(CODES)}")
    return code


def catalogue(code: str) -> Path:
    """The compiled catalogue of language ``code``."""
    return CATALOGUES / code / "LC_MESSAGES" / f"{DOMAIN}.mo"


@functools.cache
def translator(code: str) -> Translate:
    """The gettext function of a registered language, outside Flask (CLI, reports)."""
    check_code(code)
    return gettext.translation(
        DOMAIN, localedir=str(CATALOGUES), languages=[code], fallback=True
    ).gettext
