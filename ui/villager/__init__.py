"""Screens for villagers: registration, status check, and the endpoints their pages poll."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("villager", __name__)

from ui.villager import api, community, flow, household, members, objection, status  # noqa: E402, F401  (routes)


@bp.app_context_processor
def _screen_globals() -> dict[str, object]:
    from flask import url_for

    from kiosk.core.ids import group_nik
    from ui.villager.common import icon, speak, svc

    qr_url = url_for("villager.api_qr") if svc().qr is not None else ""
    return {"speak": speak, "icon": icon, "qr_url": qr_url, "group_digits": group_nik}
