"""The one spoken-note screen (record, stop, listen back, record again, delete), shared by the
objection and the villager's report and proposal: views pass their own URLs and key."""

from __future__ import annotations

from typing import Any

from flask import abort, make_response
from werkzeug.wrappers import Response

from kiosk.core.voice import VoiceNote
from kiosk.errors import VoiceNoteError
from ui.texts import lookup
from ui.villager.common import screen, svc
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


def voice_refusal(err: VoiceNoteError) -> str:
    """A VoiceNoteError in words (the form it came from is shown again, spoken)."""
    return voice_error(err.code)


def voice_context(key: str, wav_url: str, error: str | None = None) -> dict[str, Any]:
    """What ``_voice_field.html`` (the spoken note inside a report or proposal form) shows."""
    recorder = svc().voice
    on = recorder is not None and recorder.available
    return {
        "voice_on": on,
        "voice_recording": on and recorder is not None and recorder.recording(key),
        "voice_left": recorder.seconds_left(key) if recorder is not None else 0,
        "voice_note": recorder.note(key) if recorder is not None else None,
        "voice_limit": recorder.max_seconds if recorder is not None else 0,
        "voice_wav_url": wav_url,
        "voice_error": error,
    }


def voice_action(key: str, action: str) -> str | None:
    """Do a form's spoken-note button (start, stop, drop) for ``key``; the spoken reason when
    it failed, else None (the form is shown again with everything typed kept)."""
    recorder = svc().voice
    if recorder is None:
        return voice_error("no_microphone")
    try:
        if action == "start":
            recorder.start(key)
        elif action == "stop":
            recorder.stop(key)
        else:
            recorder.drop(key)
    except VoiceNoteError as err:
        return voice_error(err.code)
    return None


def voice_for_filing(key: str) -> VoiceNote | None:
    """The note to seal with a report or proposal (a recording still running is stopped and
    kept if it holds speech; VoiceNoteError when it does not)."""
    recorder = svc().voice
    if recorder is None:
        return None
    if recorder.recording(key):
        recorder.stop(key)
    return recorder.note(key)


def voice_filed(key: str) -> None:
    """The record holding the note is sealed: drop the clear audio."""
    recorder = svc().voice
    if recorder is not None:
        recorder.drop(key)
