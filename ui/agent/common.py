"""Helpers shared by the agent screens: the service, the logged-in agent, the resident waiting."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from flask import abort, redirect, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from kiosk.agents.service import AgentService, AgentSession
from kiosk.errors import AgentAuthError, SessionExpired
from kiosk.services.registration import RegistrationView
from ui.villager.common import REG, svc

AGENT = "agent"
"""Flask session key holding the agent session token."""

F = TypeVar("F", bound=Callable[..., Any])


def agents() -> AgentService:
    """The agent service; 404 when agent mode is not wired."""
    found = svc().agents
    if found is None:
        abort(404)
    assert isinstance(found, AgentService)
    return found


def agent_mode() -> bool:
    """True when agent mode is wired into this UI."""
    return svc().agents is not None


def on_duty_names() -> list[tuple[str, str]]:
    """(display name, role code) of the agents on duty, for "call an agent"; [] without agents."""
    found = svc().agents
    if found is None:
        return []
    return [(a.display_name, a.role) for a in found.on_duty()]


def waiting_registration() -> tuple[str, RegistrationView] | None:
    """The registration running in this browser (touched, so it does not time out), or None."""
    token = session.get(REG)
    if not isinstance(token, str):
        return None
    try:
        reg = svc().registration.touch(token)
    except SessionExpired:
        return None
    return token, reg


def logged_in(view: F) -> F:
    """View decorator: needs a live agent session, else back to the login screen."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        token = session.get(AGENT)
        try:
            current = agents().current(token if isinstance(token, str) else None)
        except AgentAuthError:
            session.pop(AGENT, None)
            return redirect(url_for("agent.login"))
        waiting_registration()
        return view(current, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def token_of(current: AgentSession) -> str:
    """The session token (for service calls)."""
    return current.token


DAY_NAMES: dict[str, Any] = {
    "mon": _l("Monday"),
    "tue": _l("Tuesday"),
    "wed": _l("Wednesday"),
    "thu": _l("Thursday"),
    "fri": _l("Friday"),
    "sat": _l("Saturday"),
    "sun": _l("Sunday"),
}
"""Configured day code -> its name, translated."""


def office_hours() -> str:
    """The office hours from ``[agents]``, in words: "Monday to Friday, 08.00 to 15.00"."""
    cfg = svc().cfg.agents
    order = list(DAY_NAMES)
    days = sorted(set(cfg.office_days), key=order.index)
    idx = [order.index(d) for d in days]
    if len(days) > 2 and idx == list(range(idx[0], idx[0] + len(idx))):
        day_text = _("%(first)s to %(last)s", first=DAY_NAMES[days[0]], last=DAY_NAMES[days[-1]])
    else:
        day_text = ", ".join(str(DAY_NAMES[d]) for d in days)
    return _(
        "%(days)s, %(open)s to %(close)s",
        days=day_text,
        open=cfg.office_open.replace(":", "."),
        close=cfg.office_close.replace(":", "."),
    )


@dataclass(frozen=True)
class HelpSituation:
    """What the help screen may truthfully say: who is on duty, whether the office hears it."""

    on_duty: list[tuple[str, str]]
    alert: bool
    hours: str


def help_situation() -> HelpSituation:
    """Agents on duty now, whether a help request sounds the buzzer, and the office hours."""
    found = svc().agents
    alert = bool(getattr(found, "help_alert", False))
    return HelpSituation(on_duty_names(), alert, office_hours())
