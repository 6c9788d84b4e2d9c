"""An agent looks up a resident's registration status on their behalf (audited by the status
service): NIK keypad, then every registration of that NIK on this kiosk in plain words."""

from __future__ import annotations

from typing import Any

from flask import abort, render_template, request

from kiosk.agents.service import AgentSession
from kiosk.errors import FlowError, NikError
from kiosk.services.status import StatusService
from ui.agent import bp
from ui.agent.common import logged_in
from ui.texts import nik_message
from ui.villager.common import svc
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
    return render_template("agent/status.html", error=None, rows=newest_rows(found), typed=typed)
