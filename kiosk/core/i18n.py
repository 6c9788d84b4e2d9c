"""Translatable messages in the core: message ids (English gettext msgids), never translations.

The core knows no language. A user-facing text is an English msgid, marked with :func:`N_` so
``pybabel extract`` finds it; the edge (the UI, the CLI) translates it with the catalogues of
``ui/translations/<code>/LC_MESSAGES/messages.po`` (see :mod:`kiosk.languages`). A message with
parameters uses gettext's ``%(name)s`` placeholders; a parameter that is itself a msgid (an
option label named in an error) is a :class:`Msgid`, translated before it is filled in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

Translate = Callable[[str], str]
"""A gettext function: msgid -> the text in one language."""


def N_(msgid: str) -> str:
    """Mark ``msgid`` for extraction into the catalogues; returns it unchanged."""
    return msgid


def untranslated(msgid: str) -> str:
    """The msgid itself (English): the translator of logs and of tests without catalogues."""
    return msgid


class Msgid(str):
    """A string that is a msgid: translated when it is a parameter of a message."""

    __slots__ = ()


def render(msgid: str, params: Mapping[str, object], translate: Translate = untranslated) -> str:
    """``msgid`` translated, with its ``%(name)s`` placeholders filled (Msgid values translated).

    A translation whose placeholders do not match falls back to the English msgid, so a
    faulty catalogue entry never breaks a screen."""
    values = {k: translate(v) if isinstance(v, Msgid) else v for k, v in params.items()}
    for template in (translate(msgid), msgid):
        try:
            return template % values if values else template
        except (KeyError, TypeError, ValueError):
            continue
    return msgid


class Translatable:
    """Mixin of an error whose message is a msgid with parameters (``code`` picks the msgid)."""

    msgid: str = ""
    params: dict[str, object]

    def message(self, translate: Translate = untranslated) -> str:
        """The message in the language of ``translate`` (English without one)."""
        return render(self.msgid, self.params, translate)
