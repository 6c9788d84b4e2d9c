"""Helpers shared by the agent screens: the service, the logged-in agent, the resident waiting."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, redirect, session, url_for

from kiosk.agents.service import AgentService, AgentSession
from kiosk.core.session import RegistrationSession
from kiosk.errors import AgentAuthError, SessionExpired
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


def waiting_registration() -> tuple[str, RegistrationSession] | None:
    """The registration running in this browser (touched, so it does not time out), or None."""
    token = session.get(REG)
    if not isinstance(token, str):
        return None
    try:
        reg = svc().registration.get(token)
    except SessionExpired:
        return None
    reg.touch()
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
