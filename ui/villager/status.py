"""Status check screens: NIK, then the receipt code (or, for a lost code, the face check), then
the status in words: what it means, what to do next, and where the answer comes from.

A bare NIK reveals nothing: until the code (or a verified face) matches, the only answers are
"check the number" or "no record can be shown", whether or not a registration exists.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from functools import wraps
from typing import Any, TypeVar

from flask import abort, redirect, request, session, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from kiosk.core.ids import spoken_digits
from kiosk.errors import NikError, SessionExpired
from kiosk.services.ports import ObjectionStatus, RegistrationStatus
from kiosk.services.status import (
    StatusService,
    StatusShown,
    StatusView,
    status_stage,
)
from ui.objection_texts import REASON, REFUSAL, SOURCE_NOW
from ui.objection_texts import STATE as OBJECTION_STATE
from ui.texts import (
    SOURCE,
    STAGE,
    STAGE_NEXT,
    STATUS,
    STATUS_NEXT,
    VERIFICATION,
    lookup,
    nik_message,
)
from ui.villager import bp
from ui.villager.common import REG, camera_screen, screen, svc
from ui.villager.common import STATUS as STATUS_KEY

AFTER_CHECK = "after"
"""Flask-session flag set by ui/villager/community.py: this check identifies a reporter."""


def _service() -> StatusService:
    service = svc().status
    if service is None:
        abort(404)
    return service


F = TypeVar("F", bound=Callable[..., Any])


def with_check(*, identified: bool) -> Callable[[F], F]:
    """View decorator: needs a live status check (else the "ended" screen) and, when
    ``identified``, its NIK (else the NIK keypad); the view gets the token and the check."""

    def deco(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            token = session.get(STATUS_KEY)
            token = token if isinstance(token, str) else ""
            try:
                check = _service().view(token)
            except SessionExpired:
                return redirect(url_for("villager.ended"))
            if identified and check.nik is None:
                return redirect(url_for("villager.status_identify"))
            return view(token, check, *args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return deco


@bp.post("/status")
def status_start() -> Response:
    """Begin a status check (ending any registration in progress)."""
    service = _service()
    old = session.pop(REG, None)
    if isinstance(old, str):
        svc().registration.end(old, "replaced")
    session[STATUS_KEY] = service.start()
    session.pop(AFTER_CHECK, None)  # a plain status check (not a villager's report)
    return redirect(url_for("villager.status_identify"))


@bp.get("/status/nik")
@with_check(identified=False)
def status_identify(token: str, check: StatusView) -> Any:
    """The NIK keypad for a status check."""
    return _identify_screen(None, check.nik or "")


def _identify_screen(error: Any, typed: str) -> Any:
    """The status check's NIK keypad, with ``error`` (or none) and the digits typed so far."""
    return screen(
        "villager/identify.html",
        action=url_for("villager.status_identify_post"),
        error=error,
        typed=typed,
        back=url_for("villager.menu"),
    )


@bp.post("/status/nik")
@with_check(identified=False)
def status_identify_post(token: str, check: StatusView) -> Any:
    """Validate the NIK; whatever it is, nothing is revealed before the code or the face."""
    text = request.form.get("nik", "")[:64]
    try:
        _service().identify(token, text)
    except NikError as err:
        return _identify_screen(nik_message(err), "".join(c for c in text if c.isdigit())[:16]), 422
    return redirect(url_for("villager.status_code"))


@bp.get("/status/code")
@with_check(identified=True)
def status_code(token: str, check: StatusView) -> Any:
    """The receipt code keypad (12 digits, as printed on the receipt)."""
    return _code_screen(None, "")


def _code_screen(error: str | None, typed: str) -> str:
    """The receipt code keypad; says "checking with the office..." on Next when online."""
    return screen(
        "villager/status_code.html",
        error=error,
        typed=typed,
        checking=_service().portal_available,
    )


@bp.post("/status/code")
@with_check(identified=True)
def status_code_post(token: str, check: StatusView) -> Any:
    """Open the registration whose receipt code and NIK match; else say what to check."""
    text = request.form.get("code", "")[:40]
    answer = _service().receipt(token, text)
    if answer.result == "shown":
        return redirect(url_for("villager.status_result"))
    if answer.result == "too_many":
        session.pop(STATUS_KEY, None)
        return screen("villager/status_locked.html")
    errors = {
        "malformed": _("This number is not right. Please check each digit on your receipt."),
        "not_found": _(
            "No registration has this number and this NIK. Check the number and the NIK."
        )
        if not answer.offline
        else _("The office could not be asked. Registered at another kiosk? Try again later."),
        "paused": _(
            "Too many wrong numbers were typed at this kiosk. Please ask an agent for help."
        ),
    }
    return _code_screen(
        errors.get(answer.result, errors["malformed"]),
        "".join(c for c in text if c.isdigit())[:12],
    ), 422


@bp.get("/status/face")
@with_check(identified=True)
def status_face(token: str, check: StatusView) -> Any:
    """The face check that opens the status when the receipt code is lost."""
    return _face_screen(check.attempts, None)


def _face_screen(attempts: int, coaching: str | None) -> str:
    """The status check's camera screen, coaching for ``coaching`` (a code) or none."""
    return camera_screen(url_for("villager.status_face_post"), coaching, attempts + 1, 0)


@bp.post("/status/face")
@with_check(identified=True)
def status_face_post(token: str, check: StatusView) -> Any:
    """One face attempt; show the status only when the face is verified."""
    answer = _service().check_face(token)
    if answer.coaching is not None:
        return _face_screen(answer.attempts, answer.coaching), 422
    return redirect(url_for("villager.status_result"))


def _date(seconds: float | None) -> str:
    return dt.datetime.fromtimestamp(seconds or 0.0).strftime("%d-%m-%Y")


def source_text(view: StatusShown) -> str:
    """Which source the status screen shows, and as of when, in words."""
    if view.source == "portal":
        when = dt.datetime.fromtimestamp(view.as_of or 0.0).strftime("%d-%m-%Y %H:%M")
        return str(SOURCE_NOW["portal"]) % {"time": when}
    own = (
        str(SOURCE["kiosk"])
        if view.as_of is None
        else str(SOURCE["portal"]) % {"date": _date(view.as_of)}
    )
    return f"{SOURCE_NOW[view.why or 'offline']} {own}"


def _objection_row(o: ObjectionStatus) -> dict[str, str]:
    return {
        "id": o.objection_id,
        "reason_code": o.reason_code,
        "reason_text": lookup(REASON, o.reason_code, o.reason_code),
        "state": o.state,
        "state_text": lookup(OBJECTION_STATE, o.state, o.state),
        "state_reason": o.state_reason or "",
        "filed": _date(o.filed_at),
    }


def _row(rec: RegistrationStatus, view: StatusShown | None = None) -> dict[str, Any]:
    stage = status_stage(rec)
    source = view.source if view is not None else ("portal" if rec.status_at else "kiosk")
    if stage == "decided":
        text, next_text = lookup(STATUS, rec.status, rec.status), lookup(STATUS_NEXT, rec.status)
    else:
        text, next_text = lookup(STAGE, stage), lookup(STAGE_NEXT, stage)
    key = rec.registration_id or rec.record_id
    objections = [o for o in (view.objections if view else ()) if o.registration_id == key]
    return {
        "registration_id": key,
        "receipt_no": rec.receipt_no,
        "spoken_no": spoken_digits(rec.receipt_no),
        "status": rec.status,
        "stage": stage,
        "status_text": text,
        "next_text": next_text,
        "source": source,
        "source_text": source_text(view)
        if view is not None
        else str(SOURCE[source]) % {"date": _date(rec.status_at)},
        "reason": rec.status_reason or "",
        "verification": lookup(VERIFICATION, rec.verification, rec.verification),
        "version": str(rec.version),
        "objections": [_objection_row(o) for o in objections],
    }


def _objection_offer(token: str, row: dict[str, Any]) -> dict[str, Any]:
    """Whether the card offers "Object (sanggah)", or why not (spoken with the status)."""
    filing = svc().objections
    if filing is None or row["stage"] != "decided":
        return {"can_object": False, "object_refusal": ""}
    target = _service().target(token, row["registration_id"])
    if target is None:
        return {"can_object": False, "object_refusal": ""}
    code = filing.refusal(target)
    closes = _date(filing.closes_at(target))
    if code is None:
        return {
            "can_object": True,
            "object_refusal": "",
            "object_until": str(_("You may object until %(date)s.")) % {"date": closes},
            "next_text": str(_("If you think this is wrong, touch Object (sanggah) below.")),
        }
    return {"can_object": False, "object_refusal": lookup(REFUSAL, code)}


@bp.get("/status/result")
@with_check(identified=False)
def status_result(token: str, check: StatusView) -> Any:
    """The status in words with the next step, or "no record can be shown"."""
    if session.get(AFTER_CHECK) == "community" and _service().verified_nik(token) is not None:
        return redirect(url_for("villager.community_home"))  # identified to report or propose
    view = _service().shown(token)
    rows = None
    if view is not None:
        rows = shown_rows(view)
        for row in rows:
            row.update(_objection_offer(token, row))
    return screen("villager/status.html", rows=rows, attempts=check.attempts)


def shown_rows(view: StatusShown) -> list[dict[str, Any]]:
    """One screen row per registration of ``view`` (its newest version), in plain words."""
    return [_row(r, view) for r in _newest_versions(view.records)]


def _newest_versions(records: Sequence[RegistrationStatus]) -> list[RegistrationStatus]:
    """One row per registration: its newest version (records come newest first)."""
    seen: set[str] = set()
    out = []
    for rec in records:
        key = rec.registration_id or rec.record_id
        if key not in seen:
            seen.add(key)
            out.append(rec)
    return out
