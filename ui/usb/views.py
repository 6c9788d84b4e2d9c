"""USB screens: the overview with counts, a progress screen, the result, spoken errors."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, jsonify, redirect, render_template, session, url_for
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from werkzeug.wrappers import Response

from kiosk.errors import AgentAuthError
from kiosk.usb.service import UsbJob, UsbService
from ui.usb import bp
from ui.villager.common import svc

F = TypeVar("F", bound=Callable[..., Any])

STICK_ERRORS: dict[str, LazyString] = {
    "missing": _l("No USB stick found. Put the stick in the kiosk's USB port and try again."),
    "read_only": _l(
        "The USB stick is locked (read-only). Slide its lock switch off, or use another stick."
    ),
    "full": _l("The USB stick is full. Use a stick with more free space, or empty this one."),
    "io": _l("The USB stick could not be used. Take it out, put it back in, and try again."),
}
"""``StickError.code`` -> what the agent is told (and hears)."""

REFUSALS: dict[str, LazyString] = {
    "other_device": _l("this file is for another kiosk"),
    "bad_signature": _l("not signed by the portal"),
    "unknown_key": _l("not signed by the portal"),
    "no_trusted_key": _l("the portal key is not installed on this kiosk"),
    "truncated": _l("the file is incomplete"),
}
"""Why an ack file was refused, in words (anything else: "the file is damaged")."""


def usb() -> UsbService:
    """The USB service; 404 when not wired."""
    found = svc().extra.get("usb")
    if found is None:
        abort(404)
    assert isinstance(found, UsbService)
    return found


def _technician() -> bool:
    until = session.get("technician_until")  # ui.technician.SESSION_KEY
    return isinstance(until, int | float) and until >= time.time()


def _allowed() -> bool:
    if _technician():
        return True
    agents, token = svc().agents, session.get("agent")  # ui.agent.common.AGENT
    if agents is None or not isinstance(token, str):
        return False
    try:
        agents.current(token)
    except AgentAuthError:
        return False
    return True


def staff_only(view: F) -> F:
    """View decorator: a logged-in agent or technician, else the agent login screen."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not _allowed():
            return redirect(url_for("agent.login"))
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def refusal_text(code: str | None) -> str:
    """Words for an ack-file refusal code."""
    return str(REFUSALS.get(code or "", _l("the file is damaged")))


@bp.get("/")
@staff_only
def home() -> str:
    """Records waiting, the stick's state, and the two actions."""
    view = usb().overview()
    error = STICK_ERRORS.get(view.stick) if view.stick not in (None, "read_only") else None
    back = url_for("technician.home" if _technician() else "agent.home")
    return render_template("usb/home.html", view=view, error=error, back=back)


@bp.post("/export")
@staff_only
def export() -> Response:
    """Start copying the backlog to the stick."""
    usb().start("export")
    return redirect(url_for("usb.job"))


@bp.post("/acks")
@staff_only
def acks() -> Response:
    """Start reading the portal's ack files from the stick."""
    usb().start("acks")
    return redirect(url_for("usb.job"))


@bp.get("/job")
@staff_only
def job() -> Any:
    """Progress while the job runs; its result (or spoken error) when it is done."""
    current = usb().job
    if current is None:
        return redirect(url_for("usb.home"))
    error = STICK_ERRORS.get(current.error or "") if current.state == "failed" else None
    return render_template(
        "usb/job.html",
        job=current,
        error=error,
        refusal_text=refusal_text,
        percent=_percent(current),
    )


@bp.get("/job.json")
@staff_only
def job_json() -> Response:
    """The running job's progress, polled by the progress screen."""
    current = usb().job
    if current is None:
        return jsonify(state="none")
    return jsonify(state=current.state, done=current.done, total=current.total)


def _percent(job: UsbJob) -> int:
    if job.state != "running":
        return 100
    return int(100 * job.done / job.total) if job.total else 0
