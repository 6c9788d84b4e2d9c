"""The village's recipient list (paged, by dusun), a report about a listed household, and a
proposal (usulan) of a household that needs help, for the logged-in agent."""

from __future__ import annotations

import math
from typing import Any

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from kiosk.agents.service import AgentSession
from kiosk.errors import AgentAuthError, FormError, InputError, NikError, ReportLimited
from kiosk.reports.service import (
    MAX_NOTE,
    PROPOSAL_REASONS,
    REPORT_REASONS,
    CommunityService,
    Reporter,
)
from ui.agent import bp
from ui.agent.common import logged_in
from ui.villager.common import svc

REPORT_TEXT: dict[str, tuple[str, LazyString]] = {
    "moved": ("home", _l("Moved away")),
    "deceased": ("death", _l("Passed away")),
    "well_off": ("car", _l("Well off now")),
    "other": ("other", _l("Another reason")),
}
"""Report reason -> (icon, words)."""

PROPOSAL_TEXT: dict[str, tuple[str, LazyString]] = {
    "bedridden": ("illness", _l("Bedridden or very ill")),
    "elderly_alone": ("elderly", _l("Elderly, living alone")),
    "disability": ("disability", _l("Disability")),
    "lost_income": ("job_loss", _l("Lost their income")),
    "disaster": ("disaster", _l("Hit by a disaster")),
    "other": ("other", _l("Another reason")),
}
"""Proposal reason -> (icon, words)."""

PROGRAMME_TEXT: dict[str, str] = {
    "pkh": "PKH",
    "bpnt": "BPNT",
    "pbi_jk": "PBI JK",
    "pip": "PIP",
    "blt_dd": "BLT DD",
}

FIELD_ERRORS: dict[str, LazyString] = {
    "reason": _l("Choose a reason."),
    "reasons": _l("Choose at least one reason."),
    "note": _l("The note is too long: at most %(n)s letters."),
    "note_number": _l("Do not write a NIK or No. KK in the note."),
    "dusun": _l("Choose the dusun."),
    "rt": _l("Write the RT as a number, for example 3."),
    "name": _l("Write the name of the head of the household."),
}
"""FormError field -> what the agent is told (and hears)."""

assert set(REPORT_TEXT) == set(REPORT_REASONS) and set(PROPOSAL_TEXT) == set(PROPOSAL_REASONS)


def community() -> CommunityService:
    """The community service; 404 when not wired."""
    found = svc().extra.get("community")
    if found is None:
        abort(404)
    assert isinstance(found, CommunityService)
    return found


def refusal(err: Exception) -> str:
    """A refused report or proposal in words, for the screen and the voice."""
    if isinstance(err, ReportLimited):
        minutes = max(1, math.ceil(err.wait_s / 60))
        return _(
            "This person has sent many reports today. The next one can be sent in %(m)s minutes.",
            m=minutes,
        )
    if isinstance(err, NikError):
        return _("The reporter's NIK is not right. Check its 16 digits, or leave it empty.")
    if isinstance(err, FormError):
        return str(FIELD_ERRORS.get(err.field, _l("Please check the form."))) % {"n": MAX_NOTE}
    return _("This household is not on the list any more. Go back to the list.")


def _field_of(err: Exception) -> str | None:
    """The form field a refusal is about (None: the whole form)."""
    if isinstance(err, FormError):
        return err.field
    return "reporter_nik" if isinstance(err, NikError) else None


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
            reasons=[(c, *REPORT_TEXT[c]) for c in REPORT_REASONS],
            chosen=request.form.get("reason", ""),
            note=request.form.get("note", "")[: MAX_NOTE + 50],
            reporter_nik=request.form.get("reporter_nik", "")[:20],
            max_note=MAX_NOTE,
            error=error,
            field=field,
        ),
        status,
    )


@bp.post("/recipients/<ref>/report")
@logged_in
def recipient_report_post(current: AgentSession, ref: str) -> Any:
    """File the report; a refusal is shown and spoken with the form kept."""
    try:
        community().report(
            _reporter(current),
            ref=ref[:40],
            reason=request.form.get("reason", "")[:20],
            note=request.form.get("note", "")[: MAX_NOTE + 50],
        )
    except (FormError, NikError, ReportLimited) as err:
        field = _field_of(err)
        return _report_page(current, ref, refusal(err), field, 422)
    except InputError:
        return redirect(url_for("agent.recipients"))
    return redirect(url_for("agent.recipients", sent="report"))


def _propose_page(current: AgentSession, error: str | None, field: str | None, status: int) -> Any:
    service = community()
    try:
        roster = service.roster_choices(current.token)
    except AgentAuthError:
        roster = []
    lst = service.recipients()
    form = request.form
    return (
        render_template(
            "agent/propose.html",
            roster=roster,
            dusun_names=lst.dusun if lst else (),
            reasons=[(c, *PROPOSAL_TEXT[c]) for c in PROPOSAL_REASONS],
            chosen=form.getlist("reason"),
            form=form,
            max_note=MAX_NOTE,
            error=error,
            field=field,
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
    """File the proposal; a refusal is shown and spoken with the form kept."""
    form = request.form
    household_id = form.get("roster_household", "")[:40]
    try:
        community().propose(
            _reporter(current),
            reasons=[r[:20] for r in form.getlist("reason")[:10]],
            name=form.get("name", "")[:100],
            dusun=form.get("dusun", "")[:60],
            rt=form.get("rt", "")[:5],
            note=form.get("note", "")[: MAX_NOTE + 50],
            roster_household_id=household_id if household_id not in ("", "other") else None,
        )
    except (FormError, NikError, ReportLimited) as err:
        field = _field_of(err)
        return _propose_page(current, refusal(err), field, 422)
    except (InputError, AgentAuthError):
        error = _("Choose one of your own households, or another household by name.")
        return _propose_page(current, error, "roster_household", 422)
    return redirect(url_for("agent.recipients", sent="proposal"))


@bp.app_context_processor
def _community_globals() -> dict[str, object]:
    return {"community_screens": svc().extra.get("community") is not None}
