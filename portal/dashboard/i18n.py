"""The dashboard's languages and its own gettext catalogue (``portal/dashboard/translations``).

Officials read Bahasa Indonesia first; English is complete for the regency's staff and
visitors. The languages are the kiosk registry's (``kiosk.languages``: name, decimal mark),
the subset listed in :data:`CODES`; the first is the default. Texts are English msgids, as in
the kiosk. Outside a request (tests of the parts, the bench) the default language is used, so
a text is never shown untranslated.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from babel.support import NullTranslations, Translations
from flask import has_request_context
from flask_babel import get_locale
from flask_babel import gettext as _flask_gettext
from flask_babel import ngettext as _flask_ngettext
from flask_babel.speaklater import LazyString

from kiosk.languages import BY_CODE, Language

CATALOGUES = Path(__file__).resolve().with_name("translations")
"""``<code>/LC_MESSAGES/messages.po`` (and the compiled ``.mo``) per language."""
CODES: tuple[str, ...] = ("id", "en")
"""The dashboard's languages, in the order of the switch; the first is the default."""
DEFAULT = CODES[0]
LANGUAGES: tuple[Language, ...] = tuple(BY_CODE[c] for c in CODES)
SESSION_KEY = "lang"


def choose(code: object) -> str:
    """``code`` if it is one of the dashboard's languages, else the default."""
    return code if isinstance(code, str) and code in CODES else DEFAULT


def current() -> Language:
    """The language of this request (the default outside a request)."""
    if has_request_context():
        locale = get_locale()
        if locale is not None:
            return BY_CODE[choose(str(locale))]
    return BY_CODE[DEFAULT]


@functools.cache
def _default_translations() -> NullTranslations:
    return Translations.load(str(CATALOGUES), [DEFAULT])


def gettext(msgid: str, **variables: Any) -> str:
    """``msgid`` in the request's language, ``%(name)s`` placeholders filled."""
    if has_request_context():
        return str(_flask_gettext(msgid, **variables))
    text = _default_translations().gettext(msgid)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    """The singular or plural form for ``num`` (also available as ``%(num)d``)."""
    if has_request_context():
        return str(_flask_ngettext(singular, plural, num, **variables))
    text = _default_translations().ngettext(singular, plural, num)
    return text % {"num": num, **variables}


def lazy_gettext(msgid: str, **variables: Any) -> LazyString:
    """``msgid``, translated each time it is shown (for module-level tables)."""
    return LazyString(gettext, msgid, **variables)


_ = gettext
_l = lazy_gettext


def decimal(value: float, places: int) -> str:
    """``value`` with ``places`` decimals and the language's decimal mark ('12,5' / '12.5')."""
    return f"{value:.{places}f}".replace(".", current().decimal_mark)


def integer(n: int) -> str:
    """``n`` with the language's thousands separator ('12.345' / '12,345')."""
    sep = "." if current().decimal_mark == "," else ","
    return f"{n:,}".replace(",", sep)
