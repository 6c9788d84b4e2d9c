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
from kiosk.services.ports import RegistrationStatus
from kiosk.services.status import (
    StatusService,
    StatusSession,
    status_source,
    status_stage,
)
from ui.texts import (
    COACHING,
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
from ui.villager.common import REG, screen, svc
from ui.villager.common import STATUS as STATUS_KEY


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
                check = _service().get(token)
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
    return redirect(url_for("villager.status_identify"))


@bp.get("/status/nik")
@with_check(identified=False)
def status_identify(token: str, check: StatusSession) -> Any:
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
def status_identify_post(token: str, check: StatusSession) -> Any:
    """Validate the NIK; whatever it is, nothing is revealed before the code or the face."""
    text = request.form.get("nik", "")[:64]
    try:
        _service().identify(token, text)
    except NikError as err:
        return _identify_screen(nik_message(err), "".join(c for c in text if c.isdigit())[:16]), 422
    return redirect(url_for("villager.status_code"))


@bp.get("/status/code")
@with_check(identified=True)
def status_code(token: str, check: StatusSession) -> Any:
    """The receipt code keypad (12 digits, as printed on the receipt)."""
    return screen("villager/status_code.html", error=None, typed="")


@bp.post("/status/code")
@with_check(identified=True)
def status_code_post(token: str, check: StatusSession) -> Any:
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
        ),
        "paused": _(
            "Too many wrong numbers were typed at this kiosk. Please ask an agent for help."
        ),
    }
    return screen(
        "villager/status_code.html",
        error=errors.get(answer.result, errors["malformed"]),
        typed="".join(c for c in text if c.isdigit())[:12],
    ), 422


@bp.get("/status/face")
@with_check(identified=True)
def status_face(token: str, check: StatusSession) -> Any:
    """The face check that opens the status when the receipt code is lost."""
    return _face_screen(check.attempts, None)


def _face_screen(attempts: int, coaching: str | None) -> str:
    """The status check's camera screen, coaching for ``coaching`` (a code) or none."""
    return screen(
        "villager/capture.html",
        action=url_for("villager.status_face_post"),
        coaching=str(COACHING.get(coaching, COACHING["no_face"])) if coaching else None,
        live=svc().live is not None,
        attempt=attempts + 1,
        budget=0,
    )


@bp.post("/status/face")
@with_check(identified=True)
def status_face_post(token: str, check: StatusSession) -> Any:
    """One face attempt; show the status only when the face is verified."""
    answer = _service().check_face(token)
    if answer.coaching is not None:
        return _face_screen(answer.attempts, answer.coaching), 422
    return redirect(url_for("villager.status_result"))


def _row(rec: RegistrationStatus) -> dict[str, str]:
    stage = status_stage(rec)
    source = status_source(rec)
    if stage == "decided":
        text, next_text = lookup(STATUS, rec.status, rec.status), lookup(STATUS_NEXT, rec.status)
    else:
        text, next_text = lookup(STAGE, stage), lookup(STAGE_NEXT, stage)
    when = dt.datetime.fromtimestamp(rec.status_at or 0.0).strftime("%d-%m-%Y")
    return {
        "receipt_no": rec.receipt_no,
        "spoken_no": spoken_digits(rec.receipt_no),
        "status": rec.status,
        "stage": stage,
        "status_text": text,
        "next_text": next_text,
        "source": source,
        "source_text": str(SOURCE[source]) % {"date": when},
        "reason": rec.status_reason or "",
        "verification": lookup(VERIFICATION, rec.verification, rec.verification),
        "version": str(rec.version),
    }


@bp.get("/status/result")
@with_check(identified=False)
def status_result(token: str, check: StatusSession) -> Any:
    """The status in words with the next step, or "no record can be shown"."""
    records = _service().records(token)
    rows = newest_rows(records) if records is not None else None
    return screen("villager/status.html", rows=rows, attempts=check.attempts)


def newest_rows(records: Sequence[RegistrationStatus]) -> list[dict[str, str]]:
    """One screen row per registration (its newest version), in plain words."""
    return [_row(r) for r in _newest_versions(records)]


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
