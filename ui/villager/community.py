"""A villager's own report about a listed household and proposal (usulan) of a household in
need, from the menu, after the status check's identification (NIK + receipt code, or NIK +
face when the code is lost).

The agents' forms and service are reused (ui/agent/community.py, kiosk.reports.service); the
report is filed under the verified NIK (rate-limited per NIK, sealed to the portal only,
audited). The recipient list itself stays for agents: a villager finds one household by dusun,
RT and the first letters of its head's name, and sees only the few that match.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from flask import abort, redirect, request, session, url_for
from werkzeug.wrappers import Response

from kiosk.core.voice import VoiceNote
from kiosk.errors import (
    FormError,
    InputError,
    SessionExpired,
)
from kiosk.reports.service import (
    FIND_MIN_LETTERS,
    CommunityService,
    Reporter,
)
from ui.community_forms import file_or_voice, note, proposal_fields, proposal_form, report_form
from ui.community_texts import FIELD_ERRORS
from ui.villager import bp
from ui.villager.common import REG, STATUS, screen, svc
from ui.villager.status import AFTER_CHECK
from ui.villager.voice import (
    voice_context,
    wav_response,
)

FOUND = "found"
"""Flask-session list of the refs the villager's own search returned (the only ones they may
open)."""


def _community() -> CommunityService:
    found = svc().extra.get("community")
    if found is None or svc().status is None:
        abort(404)
    assert isinstance(found, CommunityService)
    return found


def _verified() -> tuple[str, str] | Response:
    """(status token, verified NIK), or where to go instead (ended, or identify first)."""
    status = svc().status
    assert status is not None
    token = session.get(STATUS)
    token = token if isinstance(token, str) else ""
    try:
        status.touch(token)
        nik = status.verified_nik(token)
    except SessionExpired:
        return redirect(url_for("villager.ended"))
    if nik is None:
        return redirect(url_for("villager.status_identify"))
    return token, nik


def _field(err: Exception) -> str | None:
    """The form field a refusal is about (None: the whole form)."""
    return getattr(err, "field", None)


def _key(token: str) -> str:
    return f"community:{token}"


def _voice(token: str) -> dict[str, Any]:
    return voice_context(_key(token), url_for("villager.community_voice_wav"))


@bp.post("/community/start")
def community_start() -> Response:
    """Begin: the status check's identification, then the community screen."""
    _community()
    status = svc().status
    assert status is not None
    old = session.pop(REG, None)
    if isinstance(old, str):
        svc().registration.end(old, "replaced")
    session[STATUS] = status.start()
    session[AFTER_CHECK] = "community"
    session.pop(FOUND, None)
    return redirect(url_for("villager.status_identify"))


@bp.get("/community")
def community_home() -> Any:
    """Propose a household in need, or report a listed household."""
    service = _community()
    found = _verified()
    if isinstance(found, Response):
        return found
    return screen("villager/community.html", has_list=service.recipients() is not None)


# --- a proposal ------------------------------------------------------------------------------
def _propose_page(token: str, error: str | None, field: str | None, status: int) -> Any:
    lst = _community().recipients()
    return (
        screen(
            "agent/propose.html",
            villager=True,
            form_action=url_for("villager.community_propose_post"),
            back_url=url_for("villager.community_home"),
            roster=[],
            dusun_names=lst.dusun if lst else (),
            **proposal_form(),
            error=error,
            field=field,
            **_voice(token),
        ),
        status,
    )


@bp.get("/community/propose")
def community_propose() -> Any:
    """The agents' proposal form, for the villager (no roster; the NIK is the verified one)."""
    _community()
    found = _verified()
    if isinstance(found, Response):
        return found
    return _propose_page(found[0], None, None, 200)


@bp.post("/community/propose")
def community_propose_post() -> Any:
    """File the proposal under the verified NIK, or do a spoken-note button."""
    service = _community()
    found = _verified()
    if isinstance(found, Response):
        return found
    token, nik = found

    def file(voice: VoiceNote | None) -> None:
        service.propose(Reporter(None, nik), **proposal_fields(request.form), voice=voice)

    again = file_or_voice(_key(token), partial(_propose_page, token), file, _field)
    return again or redirect(url_for("villager.community_done", sent="proposal"))


# --- finding one listed household ------------------------------------------------------------
def _find_page(error: str | None, matches: list[Any] | None, status: int = 200) -> Any:
    lst = _community().recipients()
    return (
        screen(
            "villager/community_find.html",
            dusun_names=lst.dusun if lst else (),
            form=request.form,
            matches=matches,
            error=error,
            min_letters=FIND_MIN_LETTERS,
        ),
        status,
    )


@bp.get("/community/find")
def community_find() -> Any:
    """Dusun, RT and the first letters of the head's name (the list itself is not shown)."""
    _community()
    found = _verified()
    if isinstance(found, Response):
        return found
    return _find_page(None, None)


@bp.post("/community/find")
def community_find_post() -> Any:
    """The few listed households that match, or what to type more."""
    service = _community()
    found = _verified()
    if isinstance(found, Response):
        return found
    form = request.form
    try:
        matches = service.find(
            form.get("dusun", "")[:60], form.get("rt", "")[:5], form.get("letters", "")[:40]
        )
    except FormError as err:
        said = FIELD_ERRORS.get(err.field)
        return _find_page(str(said) % {"n": FIND_MIN_LETTERS} if said else None, None, 422)
    session[FOUND] = [h.ref for h in matches or ()]
    return _find_page(None, matches)


# --- a report about one listed household -------------------------------------------------------
def _report_page(token: str, ref: str, error: str | None, field: str | None, status: int) -> Any:
    household = _community().listed(ref)
    return (
        screen(
            "agent/recipient_report.html",
            villager=True,
            form_action=url_for("villager.community_report_post", ref=ref),
            back_url=url_for("villager.community_find"),
            household=household,
            **report_form(),
            error=error,
            field=field,
            **_voice(token),
        ),
        status,
    )


def _allowed(ref: str) -> bool:
    refs = session.get(FOUND)
    return isinstance(refs, list) and ref in refs


@bp.get("/community/report/<ref>")
def community_report(ref: str) -> Any:
    """Why this household (one the villager found) should no longer receive help."""
    _community()
    found = _verified()
    if isinstance(found, Response):
        return found
    if not _allowed(ref):
        return redirect(url_for("villager.community_find"))
    try:
        return _report_page(found[0], ref, None, None, 200)
    except InputError:
        return redirect(url_for("villager.community_find"))


@bp.post("/community/report/<ref>")
def community_report_post(ref: str) -> Any:
    """File the report under the verified NIK, or do a spoken-note button."""
    service = _community()
    found = _verified()
    if isinstance(found, Response):
        return found
    token, nik = found
    if not _allowed(ref):
        return redirect(url_for("villager.community_find"))

    def file(voice: VoiceNote | None) -> None:
        service.report(
            Reporter(None, nik),
            ref=ref,
            reason=request.form.get("reason", "")[:20],
            note=note(request.form),
            voice=voice,
        )

    try:
        again = file_or_voice(_key(token), partial(_report_page, token, ref), file, _field)
    except InputError:  # the list changed meanwhile: the household is not on it any more
        return redirect(url_for("villager.community_find"))
    if again is not None:
        return again
    session.pop(FOUND, None)
    return redirect(url_for("villager.community_done", sent="report"))


@bp.get("/community/done")
def community_done() -> Any:
    """Saved; it goes to the village office."""
    _community()
    found = _verified()
    if isinstance(found, Response):
        return found
    sent = request.args.get("sent", "")
    return screen(
        "villager/community_done.html", sent=sent if sent in ("report", "proposal") else ""
    )


@bp.get("/community/voice.wav")
def community_voice_wav() -> Any:
    """The villager's spoken note, from memory, to listen back."""
    _community()
    found = _verified()
    if isinstance(found, Response):
        abort(404)
    recorder = svc().voice
    return wav_response(recorder.note(_key(found[0])) if recorder is not None else None)
