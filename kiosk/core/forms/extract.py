"""``pybabel extract`` support: the msgids of the form and consent definitions (JSON).

``ui/babel.cfg`` names :func:`extract_definitions` for ``**/forms/*.json``, so the questions,
options and consent texts land in ``messages.pot`` beside the UI's own strings and are
translated in the same catalogues.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO, Any

from kiosk.core.forms.consent import parse_consent
from kiosk.core.forms.definition import parse_form


def definition_texts(data: Any) -> list[str]:
    """Every msgid of a decoded form (has ``form_id``) or consent definition."""
    if isinstance(data, dict) and "form_id" in data:
        return parse_form(data).texts()
    return parse_consent(data).texts()


def extract_definitions(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[int, None, str, list[str]]]:
    """Babel extractor: ``(line, funcname, msgid, comments)`` for each text of one file."""
    for text in definition_texts(json.load(fileobj)):
        yield 1, None, text, []
