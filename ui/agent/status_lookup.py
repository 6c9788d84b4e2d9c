"""An agent looks up a resident's registration status on their behalf (audited by the status
service): NIK keypad, then (online) the receipt code, then the status in plain words: the
portal's answer (registrations from any kiosk), else every registration of that NIK on this
kiosk, saying which."""

from __future__ import annotations

from typing import Any

from flask import abort, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from kiosk.agents.service import AgentSession
from kiosk.errors import FlowError, NikError, ObjectionRefused
from kiosk.services.status import StatusService
from ui.agent import bp
from ui.agent.common import logged_in
from ui.objection_texts import REFUSAL
from ui.texts import lookup, nik_message
from ui.villager.common import STATUS, screen, svc
from ui.villager.status import shown_rows, source_text


def _status() -> StatusService:
    service = svc().status
    if service is None:
        abort(404)
    return service


@bp.get("/status")
@logged_in
def status_lookup(current: AgentSession) -> str:
    """The NIK keypad for a lookup on a resident's behalf."""
    _status()
    return render_template("agent/status.html", error=None, rows=None, typed="")


@bp.post("/status")
@logged_in
def status_lookup_post(current: AgentSession) -> Any:
    """Check the NIK; online, ask for the receipt code next (the portal is asked by code +
    NIK); offline, look up this kiosk's record at once."""
    service = _status()
    text = request.form.get("nik", "")[:64]
    typed = "".join(c for c in text if c.isdigit())[:16]
    try:
        service.parse_nik(text)
    except NikError as err:
        return render_template(
            "agent/status.html", error=nik_message(err), rows=None, typed=typed
        ), 422
    if service.portal_available:
        return screen("villager/status_code.html", agent_nik=typed, error=None, typed="")
    return _lookup(current, typed, "")


@bp.post("/status/code")
@logged_in
def status_lookup_code(current: AgentSession) -> Any:
    """Look the NIK (and receipt code, if typed) up: the service asks the portal, writes the
    audit entry and says where the answer comes from."""
    nik = "".join(c for c in request.form.get("nik", "")[:64] if c.isdigit())[:16]
    return _lookup(current, nik, request.form.get("code", "")[:40])


def _lookup(current: AgentSession, nik: str, code: str) -> Any:
    service = _status()
    try:
        view = service.lookup_for_agent(nik, current.agent.agent_id, code)
    except NikError as err:
        return render_template(
            "agent/status.html", error=nik_message(err), rows=None, typed=nik
        ), 422
    except FlowError:
        abort(404)
    if view is None:
        error = _("This number is not right. Please check each digit on your receipt.")
        digits = "".join(c for c in code if c.isdigit())[:12]
        return screen("villager/status_code.html", agent_nik=nik, error=error, typed=digits), 422
    return render_template(
        "agent/status.html",
        error=None,
        rows=shown_rows(view),
        typed=nik,
        code=code if view.source == "portal" else "",
        source=view.source,
        source_text=source_text(view),
        objections_enabled=svc().objections is not None,
    )


@bp.post("/objection")
@logged_in
def objection_for_resident(current: AgentSession) -> Any:
    """File an objection on a resident's behalf: their status opened as a check of its own
    (audited), then the villager's objection screens, the objection marked as the agent's."""
    service, filing = _status(), svc().objections
    if filing is None:
        abort(404)
    try:
        token = service.open_for_agent(
            request.form.get("nik", "")[:64],
            current.agent.agent_id,
            request.form.get("code", "")[:40],
        )
    except NikError as err:
        return render_template(
            "agent/status.html", error=nik_message(err), rows=None, typed=""
        ), 422
    session[STATUS] = token
    target = service.target(token, request.form.get("registration_id", "")[:64])
    if target is None:
        return redirect(url_for("villager.status_result"))
    try:
        filing.begin(token, target, agent_id=current.agent.agent_id)
    except ObjectionRefused as err:
        return render_template(
            "villager/objection_refused.html", reason=lookup(REFUSAL, err.code)
        ), 409
    return redirect(url_for("villager.objection_reason"))
