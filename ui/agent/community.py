"""The village's recipient list (paged, by dusun), a report about a listed household, and a
proposal (usulan) of a household that needs help, for the logged-in agent."""

from __future__ import annotations

from functools import partial
from typing import Any

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext as _

from kiosk.agents.service import AgentSession
from kiosk.core.voice import VoiceNote
from kiosk.errors import (
    AgentAuthError,
    FormError,
    InputError,
    NikError,
)
from kiosk.reports.service import (
    CommunityService,
    Reporter,
)
from ui.agent import bp
from ui.agent.common import logged_in
from ui.community_forms import file_or_voice, note, proposal_fields, proposal_form, report_form
from ui.villager.common import svc
from ui.villager.voice import (
    voice_context,
    wav_response,
)

PROGRAMME_TEXT: dict[str, str] = {
    "pkh": "PKH",
    "bpnt": "BPNT",
    "pbi_jk": "PBI JK",
    "pip": "PIP",
    "blt_dd": "BLT DD",
}


def community() -> CommunityService:
    """The community service; 404 when not wired."""
    found = svc().extra.get("community")
    if found is None:
        abort(404)
    assert isinstance(found, CommunityService)
    return found


def _field_of(err: Exception) -> str | None:
    """The form field a refusal is about (None: the whole form)."""
    if isinstance(err, FormError):
        return err.field
    return "reporter_nik" if isinstance(err, NikError) else None


def voice_key(current: AgentSession) -> str:
    """The agent's spoken-note slot (kiosk.services.voice)."""
    return f"agent:{current.token}"


def _voice(current: AgentSession) -> dict[str, Any]:
    return voice_context(voice_key(current), url_for("agent.voice_wav"))


@bp.get("/voice.wav")
@logged_in
def voice_wav(current: AgentSession) -> Any:
    """The agent's spoken note, from memory, to listen back."""
    recorder = svc().voice
    return wav_response(recorder.note(voice_key(current)) if recorder is not None else None)


def _reporter(current: AgentSession) -> Reporter:
    nik = "".join(ch for ch in request.form.get("reporter_nik", "")[:40] if ch.isdigit())
    return Reporter(current.token, nik or None)


@bp.get("/recipients")
@logged_in
def recipients(current: AgentSession) -> Any:
    """The list, one page at a time, optionally one dusun only."""
    service = community()
    dusun = request.args.get("dusun", "")[:40] or None
    number = request.args.get("page", "1")
    page = service.page(current.token, int(number) if number.isdigit() else 1, dusun)
    lst = service.recipients()
    sent = request.args.get("sent", "")
    return render_template(
        "agent/recipients.html",
        page=page,
        dusun_names=lst.dusun if lst else (),
        dusun=dusun,
        version=lst.version if lst else None,
        programmes=PROGRAMME_TEXT,
        sent=sent if sent in ("report", "proposal") else "",
    )


@bp.get("/recipients/<ref>/report")
@logged_in
def recipient_report(current: AgentSession, ref: str) -> Any:
    """Why this listed household should no longer receive help."""
    return _report_page(current, ref, None, None, 200)


def _report_page(
    current: AgentSession, ref: str, error: str | None, field: str | None, status: int
) -> Any:
    try:
        household = community().recipient(current.token, ref[:40])
    except InputError:
        return redirect(url_for("agent.recipients"))
    return (
        render_template(
            "agent/recipient_report.html",
            household=household,
            **report_form(),
            reporter_nik=request.form.get("reporter_nik", "")[:20],
            error=error,
            field=field,
            **_voice(current),
        ),
        status,
    )


@bp.post("/recipients/<ref>/report")
@logged_in
def recipient_report_post(current: AgentSession, ref: str) -> Any:
    """File the report (or do a spoken-note button); a refusal is shown and spoken with the
    form kept."""

    def file(voice: VoiceNote | None) -> None:
        community().report(
            _reporter(current),
            ref=ref[:40],
            reason=request.form.get("reason", "")[:20],
            note=note(request.form),
            voice=voice,
        )

    try:
        again = file_or_voice(
            voice_key(current), partial(_report_page, current, ref), file, _field_of
        )
    except InputError:
        return redirect(url_for("agent.recipients"))
    return again or redirect(url_for("agent.recipients", sent="report"))


def _propose_page(current: AgentSession, error: str | None, field: str | None, status: int) -> Any:
    service = community()
    try:
        roster = service.roster_choices(current.token)
    except AgentAuthError:
        roster = []
    lst = service.recipients()
    return (
        render_template(
            "agent/propose.html",
            roster=roster,
            dusun_names=lst.dusun if lst else (),
            **proposal_form(),
            error=error,
            field=field,
            **_voice(current),
        ),
        status,
    )


@bp.get("/propose")
@logged_in
def propose(current: AgentSession) -> Any:
    """Propose a household from the agent's roster, or another one by name."""
    return _propose_page(current, None, None, 200)


@bp.post("/propose")
@logged_in
def propose_post(current: AgentSession) -> Any:
    """File the proposal (or do a spoken-note button); a refusal is shown and spoken with the
    form kept."""
    household_id = request.form.get("roster_household", "")[:40]

    def file(voice: VoiceNote | None) -> None:
        community().propose(
            _reporter(current),
            **proposal_fields(request.form),
            roster_household_id=household_id if household_id not in ("", "other") else None,
            voice=voice,
        )

    try:
        again = file_or_voice(voice_key(current), partial(_propose_page, current), file, _field_of)
    except (InputError, AgentAuthError):
        error = _("Choose one of your own households, or another household by name.")
        return _propose_page(current, error, "roster_household", 422)
    return again or redirect(url_for("agent.recipients", sent="proposal"))


@bp.app_context_processor
def _community_globals() -> dict[str, object]:
    return {"community_screens": svc().extra.get("community") is not None}
