"""The one spoken-note screen (record, stop, listen back, record again, delete), shared by the
objection and the villager's report and proposal: views pass their own URLs and key."""

from __future__ import annotations

from flask import abort, make_response
from werkzeug.wrappers import Response

from kiosk.core.voice import VoiceNote
from ui.texts import lookup
from ui.villager.common import screen
from ui.voice_texts import VOICE_ERROR


def voice_error(code: str) -> str:
    """The spoken reason a note could not be recorded or kept."""
    return lookup(VOICE_ERROR, code, lookup(VOICE_ERROR, "microphone_failed"))


def voice_screen(
    *,
    action: str,
    wav_url: str,
    type_url: str,
    recording: bool,
    seconds_left: int,
    note: VoiceNote | None,
    limit: int,
    error: str | None = None,
) -> str:
    """Render ``villager/voice_note.html`` in the state the recorder is in."""
    return screen(
        "villager/voice_note.html",
        action=action,
        wav_url=wav_url,
        type_url=type_url,
        recording=recording,
        seconds_left=seconds_left,
        note=note,
        limit=limit,
        error=error,
    )


def wav_response(note: VoiceNote | None) -> Response:
    """The note's WAV from memory (never written, never cached); 404 without one."""
    if note is None:
        abort(404)
    resp = make_response(note.wav)
    resp.headers["Content-Type"] = "audio/wav"
    resp.headers["Cache-Control"] = "no-store"
    return resp
