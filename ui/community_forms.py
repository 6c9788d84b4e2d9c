"""What the agent's and the villager's community forms (a report about a listed household, a
proposal of a household in need) share: the bounded proposal fields, and one POST's spoken-note
button or filing with its spoken refusal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import request
from werkzeug.datastructures import MultiDict

from kiosk.core.voice import VoiceNote
from kiosk.errors import FormError, NikError, ReportLimited, VoiceNoteError
from kiosk.reports.service import MAX_NOTE, PROPOSAL_REASONS, REPORT_REASONS
from ui.community_texts import PROPOSAL_TEXT, REPORT_TEXT, refusal
from ui.villager.voice import voice_action, voice_filed, voice_for_filing, voice_refusal

Page = Callable[[str | None, str | None, int], Any]
"""The form again: ``page(error, field, status)``."""


def note(form: MultiDict[str, str]) -> str:
    """The typed note, cut a little above its bound (the service refuses it aloud if over)."""
    return form.get("note", "")[: MAX_NOTE + 50]


def report_form() -> dict[str, Any]:
    """The report form's template values: its reasons, the answers kept, the note's bound."""
    return {
        "reasons": [(c, *REPORT_TEXT[c]) for c in REPORT_REASONS],
        "chosen": request.form.get("reason", ""),
        "note": note(request.form),
        "max_note": MAX_NOTE,
    }


def proposal_form() -> dict[str, Any]:
    """The proposal form's template values: its reasons, the answers kept, the note's bound."""
    return {
        "reasons": [(c, *PROPOSAL_TEXT[c]) for c in PROPOSAL_REASONS],
        "chosen": request.form.getlist("reason"),
        "form": request.form,
        "max_note": MAX_NOTE,
    }


def proposal_fields(form: MultiDict[str, str]) -> dict[str, Any]:
    """The proposal form's answers, each cut to its bound, as ``CommunityService.propose``
    takes them."""
    return {
        "reasons": [r[:20] for r in form.getlist("reason")[:10]],
        "name": form.get("name", "")[:100],
        "dusun": form.get("dusun", "")[:60],
        "rt": form.get("rt", "")[:5],
        "note": note(form),
    }


def file_or_voice(
    key: str,
    page: Page,
    file: Callable[[VoiceNote | None], object],
    field_of: Callable[[Exception], str | None],
) -> Any | None:
    """Do the pressed spoken-note button (the form again), or ``file(voice note)`` and forget
    the note (None); a refusal shows the form again with it, on ``field_of(err)``. Other errors
    of ``file`` are the caller's."""
    action = request.form.get("voice", "")
    if action:
        said = voice_action(key, action)
        return page(said, "voice" if said else None, 422 if said else 200)
    try:
        file(voice_for_filing(key))
    except VoiceNoteError as err:
        return page(voice_refusal(err), "voice", 422)
    except (FormError, NikError, ReportLimited) as err:
        return page(refusal(err), field_of(err), 422)
    voice_filed(key)
    return None
