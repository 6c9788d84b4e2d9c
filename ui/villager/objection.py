"""Objection (sanggah) screens, from an opened status check: reason pictures, an optional
typed or spoken note, an optional photo of a document, review, send.

The draft lives in :class:`kiosk.services.objection.ObjectionService` under the status check's
token and ends with it; views only map HTTP to service calls. A refusal (window closed, already
filed, note too long, ...) is a spoken screen with a way on, and keeps what was entered.
"""

from __future__ import annotations

from typing import Any

from flask import abort, make_response, redirect, request, session, url_for
from werkzeug.wrappers import Response

from kiosk.core.objection import NOTE_MAX_CHARS, REASONS
from kiosk.errors import FlowError, ObjectionRefused, SessionExpired, VoiceNoteError
from kiosk.services.objection import ObjectionDraft, ObjectionService
from ui.objection_texts import REASON, REFUSAL
from ui.texts import lookup
from ui.villager import bp
from ui.villager.common import STATUS, screen, svc
from ui.villager.voice import voice_error, voice_screen, wav_response


def _filing() -> ObjectionService:
    filing = svc().objections
    if filing is None or svc().status is None:
        abort(404)
    return filing


def _token() -> str:
    """The live status check's token (touched: this is activity); raises SessionExpired."""
    token = session.get(STATUS)
    token = token if isinstance(token, str) else ""
    status = svc().status
    assert status is not None
    status.touch(token)
    return token


def _draft() -> tuple[str, ObjectionDraft] | Response:
    """(token, draft), or the redirect that belongs instead (ended check, no draft)."""
    filing = _filing()
    try:
        token = _token()
    except SessionExpired:
        return redirect(url_for("villager.ended"))
    try:
        return token, filing.draft(token)
    except FlowError:
        return redirect(url_for("villager.status_result"))


def _refused(code: str, status: int = 409) -> tuple[str, int]:
    """The spoken refusal screen; the way on is back to the status."""
    return screen("villager/objection_refused.html", reason=lookup(REFUSAL, code)), status


def _reasons() -> list[dict[str, str]]:
    return [{"code": c, "text": lookup(REASON, c), "icon": f"objection_{c}"} for c in REASONS]


@bp.post("/objection/start")
def objection_start() -> Any:
    """Begin an objection to one decided registration of the opened status check."""
    filing = _filing()
    try:
        token = _token()
    except SessionExpired:
        return redirect(url_for("villager.ended"))
    status = svc().status
    assert status is not None
    target = status.target(token, request.form.get("registration_id", "")[:64])
    if target is None:
        return redirect(url_for("villager.status_result"))
    try:
        filing.begin(token, target)
    except ObjectionRefused as err:
        return _refused(err.code)
    return redirect(url_for("villager.objection_reason"))


@bp.get("/objection/reason")
def objection_reason() -> Any:
    """The reason categories as big pictures, spoken."""
    found = _draft()
    if isinstance(found, Response):
        return found
    return screen("villager/objection_reason.html", reasons=_reasons(), error=None)


@bp.post("/objection/reason")
def objection_reason_post() -> Any:
    """Keep the chosen reason; then the note."""
    found = _draft()
    if isinstance(found, Response):
        return found
    token, _draft_unused = found
    try:
        _filing().choose_reason(token, request.form.get("reason", "")[:40])
    except ObjectionRefused as err:
        return screen(
            "villager/objection_reason.html", reasons=_reasons(), error=lookup(REFUSAL, err.code)
        ), 422
    return redirect(url_for("villager.objection_note"))


@bp.get("/objection/note")
def objection_note() -> Any:
    """An optional typed note on the on-screen keyboard."""
    found = _draft()
    if isinstance(found, Response):
        return found
    return screen(
        "villager/objection_note.html",
        error=None,
        note=found[1].note or "",
        limit=NOTE_MAX_CHARS,
        can_record=_filing().can_record,
    )


@bp.post("/objection/note")
def objection_note_post() -> Any:
    """Keep the note (or none: Skip); too long is refused with the text kept."""
    found = _draft()
    if isinstance(found, Response):
        return found
    token, _d = found
    text = "" if request.form.get("action") == "skip" else request.form.get("note", "")
    try:
        _filing().set_note(token, text[: NOTE_MAX_CHARS * 4])
    except ObjectionRefused as err:
        return screen(
            "villager/objection_note.html",
            error=lookup(REFUSAL, err.code),
            note=text[: NOTE_MAX_CHARS * 4],
            limit=NOTE_MAX_CHARS,
            can_record=_filing().can_record,
        ), 422
    if request.form.get("action") == "voice" and _filing().can_record:
        return redirect(url_for("villager.objection_voice"))
    return _after_note()


def _after_note() -> Response:
    """The note (typed or spoken) is done: the photo when a camera is wired, else the review."""
    if _filing().can_photograph:
        return redirect(url_for("villager.objection_photo"))
    return redirect(url_for("villager.objection_review"))


def _voice(token: str, error: str | None = None) -> str:
    filing = _filing()
    voice = svc().voice
    return voice_screen(
        action=url_for("villager.objection_voice_post"),
        wav_url=url_for("villager.objection_voice_wav"),
        type_url=url_for("villager.objection_note"),
        recording=filing.voice_recording(token),
        seconds_left=voice.seconds_left(f"objection:{token}") if voice is not None else 0,
        note=filing.voice_note(token),
        limit=filing.voice_limit_s,
        error=error,
    )


@bp.get("/objection/voice")
def objection_voice() -> Any:
    """The spoken note: record, listen back, record again, delete."""
    found = _draft()
    if isinstance(found, Response):
        return found
    if not _filing().can_record:
        return redirect(url_for("villager.objection_note"))
    return _voice(found[0])


@bp.post("/objection/voice")
def objection_voice_post() -> Any:
    """Start, stop, delete the spoken note, or go on; a failure is spoken, typing stays open."""
    found = _draft()
    if isinstance(found, Response):
        return found
    token, _d = found
    filing = _filing()
    action = request.form.get("action", "")
    try:
        if action == "start":
            filing.start_voice(token)
        elif action == "stop":
            filing.stop_voice(token)
        elif action == "drop":
            filing.drop_voice(token)
        else:
            if filing.voice_recording(token):
                filing.stop_voice(token)
            return _after_note()
    except (VoiceNoteError, ObjectionRefused) as err:
        return _voice(token, voice_error(err.code)), 422
    return redirect(url_for("villager.objection_voice"))


@bp.get("/objection/voice.wav")
def objection_voice_wav() -> Any:
    """The spoken note, from memory, to listen back."""
    found = _draft()
    if isinstance(found, Response):
        abort(404)
    return wav_response(_filing().voice_note(found[0]))


@bp.get("/objection/photo")
def objection_photo() -> Any:
    """Optional evidence: hold a document up to the camera."""
    found = _draft()
    if isinstance(found, Response):
        return found
    return screen(
        "villager/objection_photo.html",
        taken=found[1].evidence is not None,
        live=svc().live is not None,
        error=None,
    )


@bp.post("/objection/photo")
def objection_photo_post() -> Any:
    """Take the photo, take it again, remove it, or go on."""
    found = _draft()
    if isinstance(found, Response):
        return found
    token, draft = found
    action = request.form.get("action", "")
    if action == "take":
        error: str | None = None
        try:
            taken = _filing().take_photo(token)
        except ObjectionRefused as err:
            taken, error = False, lookup(REFUSAL, err.code)
        else:
            error = None if taken else lookup(REFUSAL, "evidence_too_large")
        return screen(
            "villager/objection_photo.html",
            taken=draft.evidence is not None,
            live=svc().live is not None,
            error=error,
        ), (200 if taken else 422)
    if action == "drop":
        _filing().drop_photo(token)
        return redirect(url_for("villager.objection_photo"))
    return redirect(url_for("villager.objection_review"))


@bp.get("/objection/photo.jpg")
def objection_photo_jpeg() -> Any:
    """The evidence photo just taken, from memory (never written, never cached)."""
    found = _draft()
    if isinstance(found, Response) or found[1].evidence is None:
        abort(404)
    resp = make_response(found[1].evidence)
    resp.headers["Content-Type"] = "image/jpeg"
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.get("/objection/review")
def objection_review() -> Any:
    """What will be sent, before it is sent."""
    found = _draft()
    if isinstance(found, Response):
        return found
    draft = found[1]
    if draft.reason_code is None:
        return redirect(url_for("villager.objection_reason"))
    return screen(
        "villager/objection_review.html",
        reason=lookup(REASON, draft.reason_code),
        reason_icon=f"objection_{draft.reason_code}",
        note=draft.note,
        voice=_filing().voice_note(found[0]),
        photo=draft.evidence is not None,
        can_photograph=_filing().can_photograph,
        receipt_no=draft.target.receipt_no,
    )


@bp.post("/objection/send")
def objection_send() -> Any:
    """Seal and commit the objection; the answer comes only after the commit."""
    found = _draft()
    if isinstance(found, Response):
        return found
    token, _d = found
    try:
        _filing().submit(token)
    except ObjectionRefused as err:
        return _refused(err.code)
    return redirect(url_for("villager.objection_done"))


@bp.get("/objection/done")
def objection_done() -> Any:
    """The objection is saved; how it goes on."""
    found = _draft()
    if isinstance(found, Response):
        return found
    if found[1].objection_id is None:
        return redirect(url_for("villager.objection_review"))
    return screen("villager/objection_done.html", receipt_no=found[1].target.receipt_no)


@bp.post("/objection/cancel")
def objection_cancel() -> Any:
    """Leave the objection (nothing is sent) and go back to the status."""
    filing = _filing()
    token = session.get(STATUS)
    filing.discard(token if isinstance(token, str) else None)
    return redirect(url_for("villager.status_result"))
