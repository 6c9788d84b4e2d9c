"""The USB stick screen for agents and technicians: export the sealed backlog, bring the
portal's ack file back. Mounted under ``/usb``; needs a logged-in agent or technician."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("usb", __name__, url_prefix="/usb")

from ui.usb import views  # noqa: E402, F401  (registers routes)


@bp.app_context_processor
def _usb_globals() -> dict[str, object]:
    from flask import current_app

    found = current_app.extensions.get("kiosk_ui")
    return {"usb_screen": found is not None and "usb" in found.extra}
