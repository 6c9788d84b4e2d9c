"""Small JSON and media endpoints the screens' local JS polls: session time, live coaching,
preview frames (from memory), spoken prompts, presence, the IKD QR reader, the receipt QR."""

from __future__ import annotations

import contextlib
import functools
import io

import qrcode
import qrcode.image.svg
from flask import Response, abort, jsonify, request, session
from flask_babel import gettext
from werkzeug.wrappers import Response as BaseResponse

from kiosk.core.session import State
from kiosk.errors import SessionExpired
from ui.qrscan import QR_REFUSED, read_qr
from ui.texts import COACHING
from ui.villager import bp
from ui.villager.common import REG, STATUS, is_step, reg_token, speak, svc


@bp.before_app_request
def _activity() -> None:
    """Any POST from the person counts as activity for the inactivity timer (a screen's own
    step applies it in its one lookup)."""
    if request.method != "POST" or request.endpoint == "villager.api_warning_shown":
        return
    if is_step(request.endpoint):
        return
    s = svc()
    token = session.get(REG)
    if isinstance(token, str):
        with contextlib.suppress(SessionExpired):
            s.registration.touch(token)
    st = session.get(STATUS)
    if isinstance(st, str) and s.status is not None:
        with contextlib.suppress(SessionExpired):
            s.status.touch(st)


@bp.post("/api/listening")
def api_listening() -> Response:
    """A prompt started playing: the person is busy for as long as the clip lasts.

    The page says which prompt (its key); the server knows the clip's length, so a page cannot
    stretch a session beyond what it really plays."""
    s = svc()
    key = str(request.form.get("key") or request.args.get("key") or "")[:64]
    seconds = s.speech.duration(key) if s.speech is not None else None
    if seconds is not None:
        token, st = session.get(REG), session.get(STATUS)
        with contextlib.suppress(SessionExpired):
            if isinstance(token, str):
                s.registration.listening(token, seconds)
            elif isinstance(st, str) and s.status is not None:
                s.status.listening(st, seconds)
    return _time_json(heard=seconds)


@bp.post("/api/warning-shown")
def api_warning_shown() -> Response:
    """The page showed and spoke "are you still there?": the grace period starts now."""
    s = svc()
    token, st = session.get(REG), session.get(STATUS)
    with contextlib.suppress(SessionExpired):
        if isinstance(token, str):
            s.registration.warning_shown(token)
        elif isinstance(st, str) and s.status is not None:
            s.status.warning_shown(st)
    return _time_json()


@bp.get("/api/receipt")
def api_receipt() -> Response:
    """Where the just-committed record is: ``saved`` on the kiosk or ``sent`` to the office."""
    try:
        state = svc().registration.view(reg_token()).delivery
    except SessionExpired:
        return jsonify(delivery=None)
    return jsonify(delivery=delivery_word(state))


def delivery_word(state: str | None) -> str | None:
    """Outbox state -> what the receipt says: ``sent`` once the portal holds it, else ``saved``."""
    if state is None:
        return None
    return "sent" if state == "acked" else "saved"


def _time_state() -> tuple[bool, bool, float, bool]:
    """(active, warned, seconds_left, said) of this browser's session, without touching it."""
    s = svc()
    token = session.get(REG)
    if isinstance(token, str):
        try:
            reg = s.registration.view(token)
        except SessionExpired:
            return False, False, 0.0, False
        return True, reg.warned, reg.seconds_left, reg.warning_said
    st = session.get(STATUS)
    if isinstance(st, str) and s.status is not None:
        try:
            check = s.status.view(st)
            return True, check.warned, check.seconds_left, check.warning_said
        except SessionExpired:
            return False, False, 0.0, False
    return False, False, 0.0, False


def _time_json(**extra: object) -> Response:
    active, warned, left, said = _time_state()
    return jsonify(active=active, warned=warned, seconds_left=round(left), said=said, **extra)


@bp.get("/api/session")
def api_session() -> Response:
    """Inactivity state for the warning dialog: active, warned, seconds_left, said."""
    return _time_json()


@bp.post("/api/touch")
def api_touch() -> Response:
    """The person touched the screen or asked for more time (activity is applied before)."""
    return _time_json()


@bp.get("/api/live")
def api_live() -> Response:
    """Current coaching code, its words and its spoken prompt, for the capture screen."""
    live = svc().live
    code = live.coaching() if live is not None else None
    text = str(COACHING[code]) if code in COACHING else ""
    return jsonify(code=code, text=text, speech=speak(text) if text else "")


@bp.get("/live/preview.jpg")
def live_preview() -> BaseResponse:
    """The latest camera frame as JPEG, straight from memory (404 when there is none)."""
    token = session.get(REG) or session.get(STATUS)
    live = svc().live
    if not isinstance(token, str) or live is None:
        abort(404)
    frame = live.preview_jpeg()
    if frame is None:
        abort(404)
    return Response(frame, mimetype="image/jpeg", headers={"Cache-Control": "no-store"})


@bp.get("/speech/<key>.wav")
def speech(key: str) -> BaseResponse:
    """A spoken prompt as WAV, synthesised on first request."""
    engine = svc().speech
    audio = engine.wav(key) if engine is not None else None
    if audio is None:
        abort(404)
    return Response(audio, mimetype="audio/wav", headers={"Cache-Control": "private, max-age=3600"})


@bp.get("/api/presence")
def api_presence() -> Response:
    """Whether someone stands in front of the kiosk (false without a sensor)."""
    presence = svc().presence
    return jsonify(present=bool(presence.present()) if presence is not None else False)


@bp.get("/api/qr")
def api_qr() -> Response:
    """A NIK read from an IKD QR code now (a claim only; the face check still decides)."""
    reader = svc().qr
    if reader is None or not isinstance(session.get(REG) or session.get(STATUS), str):
        return jsonify(nik=None)
    reading = read_qr(reader.read())
    if reading.refused:  # say why, and the way on: the IKD app's code, or the keypad
        message = gettext(QR_REFUSED)
        return jsonify(nik=None, refused=True, message=message, speech=speak(message))
    return jsonify(nik=reading.nik)


@functools.lru_cache(maxsize=4)
def qr_svg(data: str) -> bytes:
    """``data`` as a QR code in SVG (path form, no inline styles)."""
    img = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    buf = io.BytesIO()
    img.save(buf)
    return buf.getvalue()


@bp.get("/receipt/qr.svg")
def receipt_qr() -> BaseResponse:
    """The receipt number as a QR code (only for the session that was just registered)."""
    try:
        reg = svc().registration.view(reg_token())
    except SessionExpired:
        abort(404)
    if reg.state is not State.SUBMITTED or not reg.receipt_no:
        abort(404)
    return Response(qr_svg(reg.receipt_no), mimetype="image/svg+xml")
