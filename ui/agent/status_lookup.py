"""An agent looks up a resident's registration status on their behalf (audited by the status
service): NIK keypad, then every registration of that NIK on this kiosk in plain words."""

from __future__ import annotations

from typing import Any

from flask import abort, redirect, render_template, request, session, url_for

from kiosk.agents.service import AgentSession
from kiosk.errors import FlowError, NikError, ObjectionRefused
from kiosk.services.status import StatusService
from ui.agent import bp
from ui.agent.common import logged_in
from ui.objection_texts import REFUSAL
from ui.texts import lookup, nik_message
from ui.villager.common import STATUS, svc
from ui.villager.status import newest_rows


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
    """Look the NIK up (the service writes the audit entry) and show its registrations."""
    service = _status()
    text = request.form.get("nik", "")[:64]
    typed = "".join(c for c in text if c.isdigit())[:16]
    try:
        found = service.lookup_for_agent(text, current.agent.agent_id)
    except NikError as err:
        return render_template(
            "agent/status.html", error=nik_message(err), rows=None, typed=typed
        ), 422
    except FlowError:
        abort(404)
    return render_template(
        "agent/status.html",
        error=None,
        rows=newest_rows(found),
        typed=typed,
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
        token = service.open_for_agent(request.form.get("nik", "")[:64], current.agent.agent_id)
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
