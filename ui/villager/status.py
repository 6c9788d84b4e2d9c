"""Status check screens: NIK, then the same face check, then the status in words.

A bare NIK reveals nothing: until the face is verified the only answer is "no record can be
shown", whether or not a registration exists.
"""

from __future__ import annotations

from typing import Any

from flask import abort, redirect, request, session, url_for
from werkzeug.wrappers import Response

from kiosk.errors import NikError, SessionExpired
from kiosk.services.status import StatusService, StatusSession
from kiosk.store.registrations import RegistrationStatus
from ui.texts import COACHING, STATUS, STATUS_NEXT, VERIFICATION, lookup, nik_message
from ui.villager import bp
from ui.villager.common import REG, screen, svc
from ui.villager.common import STATUS as STATUS_KEY


def _service() -> StatusService:
    service = svc().status
    if service is None:
        abort(404)
    return service


def _check() -> tuple[str, StatusSession]:
    token = session.get(STATUS_KEY)
    token = token if isinstance(token, str) else ""
    return token, _service().get(token)


@bp.post("/status")
def status_start() -> Response:
    """Begin a status check (ending any registration in progress)."""
    service = _service()
    old = session.pop(REG, None)
    if isinstance(old, str):
        svc().registration.end(old, "replaced")
    session[STATUS_KEY] = service.start()
    return redirect(url_for("villager.status_identify"))


@bp.get("/status/nik")
def status_identify() -> Any:
    """The NIK keypad for a status check."""
    try:
        _check()
    except SessionExpired:
        return redirect(url_for("villager.ended"))
    return screen(
        "villager/identify.html", action=url_for("villager.status_identify_post"), error=None
    )


@bp.post("/status/nik")
def status_identify_post() -> Any:
    """Validate the NIK; whatever it is, nothing is revealed before the face check."""
    try:
        token, _ = _check()
    except SessionExpired:
        return redirect(url_for("villager.ended"))
    text = request.form.get("nik", "")[:64]
    try:
        _service().identify(token, text)
    except NikError as err:
        return screen(
            "villager/identify.html",
            action=url_for("villager.status_identify_post"),
            error=nik_message(err),
            typed="".join(c for c in text if c.isdigit())[:20],
        ), 422
    return redirect(url_for("villager.status_face"))


@bp.get("/status/face")
def status_face() -> Any:
    """The face check that unlocks the status."""
    try:
        _, check = _check()
    except SessionExpired:
        return redirect(url_for("villager.ended"))
    if check.nik is None:
        return redirect(url_for("villager.status_identify"))
    return screen(
        "villager/capture.html",
        action=url_for("villager.status_face_post"),
        coaching=None,
        live=svc().live is not None,
        attempt=check.attempts + 1,
        budget=0,
    )


@bp.post("/status/face")
def status_face_post() -> Any:
    """One face attempt; show the status only when the face is verified."""
    try:
        token, check = _check()
    except SessionExpired:
        return redirect(url_for("villager.ended"))
    if check.nik is None:
        return redirect(url_for("villager.status_identify"))
    answer = _service().check_face(token)
    face = answer.face
    if face.template is None and face.coaching is not None:
        return screen(
            "villager/capture.html",
            action=url_for("villager.status_face_post"),
            coaching=str(COACHING.get(face.coaching, COACHING["no_face"])),
            live=svc().live is not None,
            attempt=check.attempts + 1,
            budget=0,
        ), 422
    return redirect(url_for("villager.status_result"))


def _row(rec: RegistrationStatus) -> dict[str, str]:
    return {
        "receipt_no": rec.receipt_no,
        "status": rec.status,
        "status_text": lookup(STATUS, rec.status, rec.status),
        "next_text": lookup(STATUS_NEXT, rec.status),
        "reason": rec.status_reason or "",
        "verification": lookup(VERIFICATION, rec.verification, rec.verification),
    }


@bp.get("/status/result")
def status_result() -> Any:
    """The status in words with the next step, or "no record can be shown"."""
    try:
        token, check = _check()
    except SessionExpired:
        return redirect(url_for("villager.ended"))
    records = _service().records(token)
    rows = [_row(r) for r in records] if records is not None else None
    return screen("villager/status.html", rows=rows, attempts=check.attempts)
