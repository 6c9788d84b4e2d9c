"""Screens for agents: login (PIN keypad + face), home, assisted and vouched registrations,
help requests and the Dasa Wisma roster. Mounted under ``/agent``."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("agent", __name__, url_prefix="/agent")

from ui.agent import (  # noqa: E402, F401  (registers routes)
    community,
    meeting,
    roster,
    status_lookup,
    views,
)


@bp.app_context_processor
def _agent_globals() -> dict[str, object]:
    from ui.agent.common import agent_mode, help_situation, on_duty_names

    return {
        "agents_on_duty": on_duty_names,
        "agent_mode": agent_mode,
        "help_situation": help_situation,
    }
