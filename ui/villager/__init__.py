"""Screens for villagers: registration, status check, and the endpoints their pages poll."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("villager", __name__)

from ui.villager import api, flow, household, status  # noqa: E402, F401  (registers routes)


@bp.app_context_processor
def _screen_globals() -> dict[str, object]:
    from ui.villager.common import icon, speak

    return {"speak": speak, "icon": icon}
