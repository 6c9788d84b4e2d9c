"""Small JSON and media endpoints the screens' local JS polls: session time, live coaching,
preview frames (from memory), spoken prompts, presence, the IKD QR reader, the receipt QR."""

from __future__ import annotations

import contextlib
import functools
import io

import qrcode
import qrcode.image.svg
from flask import Response, abort, jsonify, request, session
from werkzeug.wrappers import Response as BaseResponse

from kiosk.core.session import State
from kiosk.errors import SessionExpired
from ui.qrscan import nik_from_qr
from ui.texts import COACHING
from ui.villager import bp
from ui.villager.common import REG, STATUS, speak, svc


@bp.before_app_request
def _activity() -> None:
    """Any POST from the person counts as activity for the inactivity timer."""
    if request.method != "POST":
        return
    s = svc()
    token = session.get(REG)
    if isinstance(token, str):
        with contextlib.suppress(SessionExpired):
            s.registration.get(token).touch()
    st = session.get(STATUS)
    if isinstance(st, str) and s.status is not None:
        with contextlib.suppress(SessionExpired):
            s.status.touch(st)


def _time_state() -> tuple[bool, bool, float]:
    """(active, warned, seconds_left) of this browser's session, without touching it."""
    s = svc()
    token = session.get(REG)
    if isinstance(token, str):
        try:
            reg = s.registration.get(token)
        except SessionExpired:
            return False, False, 0.0
        if reg.state is State.SUBMITTED:
            return True, reg.warned, reg.seconds_left
        return True, reg.warned, reg.seconds_left
    st = session.get(STATUS)
    if isinstance(st, str) and s.status is not None:
        try:
            check = s.status.get(st)
            return True, check.warned, s.status.seconds_left(st)
        except SessionExpired:
            return False, False, 0.0
    return False, False, 0.0


@bp.get("/api/session")
def api_session() -> Response:
    """Inactivity state for the warning dialog: active, warned, seconds_left."""
    active, warned, left = _time_state()
    return jsonify(active=active, warned=warned, seconds_left=round(left))


@bp.post("/api/touch")
def api_touch() -> Response:
    """The person touched the screen or asked for more time (activity is applied before)."""
    active, warned, left = _time_state()
    return jsonify(active=active, warned=warned, seconds_left=round(left))


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
    return jsonify(nik=nik_from_qr(reader.read()))


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
    token = session.get(REG)
    try:
        reg = svc().registration.get(token if isinstance(token, str) else None)
    except SessionExpired:
        abort(404)
    if reg.state is not State.SUBMITTED or not reg.receipt_no:
        abort(404)
    return Response(qr_svg(reg.receipt_no), mimetype="image/svg+xml")
