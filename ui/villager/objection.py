"""Objection (sanggah) screens, from an opened status check: reason pictures, an optional
typed or spoken note, an optional photo of a document, review, send.

The draft lives in :class:`kiosk.services.objection.ObjectionService` under the status check's
token and ends with it; views only map HTTP to service calls. A refusal (window closed, already
filed, note too long, ...) is a spoken screen with a way on, and keeps what was entered.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
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


def _checking(view: Callable[[str], Any]) -> Callable[[], Any]:
    """A screen of the opened status check: called with its token, or the end screen when the
    check has ended."""

    @functools.wraps(view)
    def wrapper() -> Any:
        try:
            token = _token()
        except SessionExpired:
            return redirect(url_for("villager.ended"))
        return view(token)

    return wrapper


def _drafting(view: Callable[[str, ObjectionDraft], Any]) -> Callable[[], Any]:
    """A screen of the objection being drafted: called with (token, draft), or the redirect
    that belongs instead (the status check ended: the end screen; no draft: the status)."""

    @functools.wraps(view)
    @_checking
    def wrapper(token: str) -> Any:
        try:
            draft = _filing().draft(token)
        except FlowError:
            return redirect(url_for("villager.status_result"))
        return view(token, draft)

    return wrapper


def _refused(code: str, status: int = 409) -> tuple[str, int]:
    """The spoken refusal screen; the way on is back to the status."""
    return screen("villager/objection_refused.html", reason=lookup(REFUSAL, code)), status


def _reasons() -> list[dict[str, str]]:
    return [{"code": c, "text": lookup(REASON, c), "icon": f"objection_{c}"} for c in REASONS]


@bp.post("/objection/start")
@_checking
def objection_start(token: str) -> Any:
    """Begin an objection to one decided registration of the opened status check."""
    filing = _filing()
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
@_drafting
def objection_reason(token: str, draft: ObjectionDraft) -> Any:
    """The reason categories as big pictures, spoken."""
    return screen("villager/objection_reason.html", reasons=_reasons(), error=None)


@bp.post("/objection/reason")
@_drafting
def objection_reason_post(token: str, draft: ObjectionDraft) -> Any:
    """Keep the chosen reason; then the note."""
    try:
        _filing().choose_reason(token, request.form.get("reason", "")[:40])
    except ObjectionRefused as err:
        return screen(
            "villager/objection_reason.html", reasons=_reasons(), error=lookup(REFUSAL, err.code)
        ), 422
    return redirect(url_for("villager.objection_note"))


@bp.get("/objection/note")
@_drafting
def objection_note(token: str, draft: ObjectionDraft) -> Any:
    """An optional typed note on the on-screen keyboard."""
    return screen(
        "villager/objection_note.html",
        error=None,
        note=draft.note or "",
        limit=NOTE_MAX_CHARS,
        can_record=_filing().can_record,
    )


@bp.post("/objection/note")
@_drafting
def objection_note_post(token: str, draft: ObjectionDraft) -> Any:
    """Keep the note (or none: Skip); too long is refused with the text kept."""
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
    return voice_screen(
        action=url_for("villager.objection_voice_post"),
        wav_url=url_for("villager.objection_voice_wav"),
        type_url=url_for("villager.objection_note"),
        recording=filing.voice_recording(token),
        seconds_left=filing.voice_seconds_left(token),
        note=filing.voice_note(token),
        limit=filing.voice_limit_s,
        error=error,
    )


@bp.get("/objection/voice")
@_drafting
def objection_voice(token: str, draft: ObjectionDraft) -> Any:
    """The spoken note: record, listen back, record again, delete."""
    if not _filing().can_record:
        return redirect(url_for("villager.objection_note"))
    return _voice(token)


@bp.post("/objection/voice")
@_drafting
def objection_voice_post(token: str, draft: ObjectionDraft) -> Any:
    """Start, stop, delete the spoken note, or go on; a failure is spoken, typing stays open."""
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
@_drafting
def objection_voice_wav(token: str, draft: ObjectionDraft) -> Any:
    """The spoken note, from memory, to listen back."""
    return wav_response(_filing().voice_note(token))


@bp.get("/objection/photo")
@_drafting
def objection_photo(token: str, draft: ObjectionDraft) -> Any:
    """Optional evidence: hold a document up to the camera."""
    return screen(
        "villager/objection_photo.html",
        taken=draft.evidence is not None,
        live=svc().live is not None,
        error=None,
    )


@bp.post("/objection/photo")
@_drafting
def objection_photo_post(token: str, draft: ObjectionDraft) -> Any:
    """Take the photo, take it again, remove it, or go on."""
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
@_drafting
def objection_photo_jpeg(token: str, draft: ObjectionDraft) -> Any:
    """The evidence photo just taken, from memory (never written, never cached)."""
    if draft.evidence is None:
        abort(404)
    resp = make_response(draft.evidence)
    resp.headers["Content-Type"] = "image/jpeg"
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.get("/objection/review")
@_drafting
def objection_review(token: str, draft: ObjectionDraft) -> Any:
    """What will be sent, before it is sent."""
    if draft.reason_code is None:
        return redirect(url_for("villager.objection_reason"))
    return screen(
        "villager/objection_review.html",
        reason=lookup(REASON, draft.reason_code),
        reason_icon=f"objection_{draft.reason_code}",
        note=draft.note,
        voice=_filing().voice_note(token),
        photo=draft.evidence is not None,
        can_photograph=_filing().can_photograph,
        receipt_no=draft.target.receipt_no,
    )


@bp.post("/objection/send")
@_drafting
def objection_send(token: str, draft: ObjectionDraft) -> Any:
    """Seal and commit the objection; the answer comes only after the commit."""
    try:
        _filing().submit(token)
    except ObjectionRefused as err:
        return _refused(err.code)
    return redirect(url_for("villager.objection_done"))


@bp.get("/objection/done")
@_drafting
def objection_done(token: str, draft: ObjectionDraft) -> Any:
    """The objection is saved; how it goes on."""
    if draft.objection_id is None:
        return redirect(url_for("villager.objection_review"))
    return screen("villager/objection_done.html", receipt_no=draft.target.receipt_no)


@bp.post("/objection/cancel")
def objection_cancel() -> Any:
    """Leave the objection (nothing is sent) and go back to the status."""
    filing = _filing()
    token = session.get(STATUS)
    filing.discard(token if isinstance(token, str) else None)
    return redirect(url_for("villager.status_result"))
