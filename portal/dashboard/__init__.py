"""The regency dashboard: a server-rendered Flask app over the portal's PostgreSQL database.

Officials (roles village, kecamatan, regency) log in and see registrations, verification
outcomes, agent assistance, face failures, spoof attempts, objections and kiosk health for their
own area and the areas inside it. No script, no file from elsewhere, Bahasa Indonesia first and
English (its own gettext catalogue, ``portal/dashboard/i18n.py``); never a NIK. Runs on the
portal (never on a kiosk); see ``python -m portal.dashboard --help``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from flask import Flask, g, render_template, session
from flask_babel import Babel
from werkzeug.exceptions import HTTPException

from portal.dashboard import i18n
from portal.dashboard.i18n import _l
from portal.dashboard.officials import AddressThrottle
from portal.dashboard.security import harden
from portal.dashboard.views import bp

log = logging.getLogger("portal.dashboard")

ERROR_TITLES: dict[int, object] = {
    400: _l("The request cannot be processed"),
    403: _l("Not your area"),
    404: _l("Page not found"),
    405: _l("Request not allowed"),
    413: _l("Input too large"),
    429: _l("Too many attempts"),
    500: _l("An error occurred at the portal"),
    503: _l("The portal database cannot be reached"),
}
"""Title of each error page (translated when shown)."""

_DEFAULTS: dict[int, object] = {
    400: _l("Check the address or the input and try again."),
    404: _l("This address is not in the dashboard. Go back to your area's page."),
    405: _l("Use the buttons and links on the page."),
    413: _l("The form input is too long."),
}
_DESCRIPTIONS: dict[str, object] = {
    "csrf": _l("This form has expired. Reload the page and try again."),
}


def create_app(
    dsn: str,
    secret_key: bytes,
    *,
    tz: str = "Asia/Jakarta",
    hosts: list[str] | None = None,
    secure_cookies: bool = True,
    clock: Callable[[], float] = time.time,
    throttle: AddressThrottle | None = None,
) -> Flask:
    """The dashboard app reading ``dsn`` (a libpq connection string).

    ``hosts``: the host names it answers to (None: any, for a proxy that checks them);
    ``clock``: seconds since the epoch (tests pass a fixed one).
    """
    if len(secret_key) < 32:
        raise ValueError("the dashboard's secret key must be at least 32 bytes")

    def connect() -> Any:
        return psycopg.connect(dsn, autocommit=True, connect_timeout=5)

    app = Flask(__name__, static_folder=str(Path(__file__).with_name("static")))
    harden(app, secret_key, hosts, secure_cookies)
    app.extensions["dashboard"] = {
        "connect": connect,
        "tz": tz,
        "clock": clock,
        "throttle": throttle or AddressThrottle(clock=clock),
    }
    app.config["BABEL_DEFAULT_LOCALE"] = i18n.DEFAULT
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(i18n.CATALOGUES)
    Babel(app, locale_selector=lambda: i18n.choose(session.get(i18n.SESSION_KEY)))
    app.register_blueprint(bp)

    @app.context_processor
    def _language() -> dict[str, Any]:
        # where the language switch returns: home, unless a page names itself (never the
        # request's own path or query: it could hold a NIK typed in the wrong field)
        return {"lang": i18n.current().code, "languages": i18n.LANGUAGES, "here": "/"}

    @app.teardown_appcontext
    def _close(_exc: BaseException | None) -> None:
        conn = g.pop("db", None)
        if conn is not None:
            conn.close()

    @app.errorhandler(HTTPException)
    def _http_error(err: HTTPException) -> tuple[str, int]:
        code = err.code or 500
        own = err.description != type(err).description  # ours, already translated
        text = _DESCRIPTIONS.get(str(err.description)) or (
            err.description if own else _DEFAULTS.get(code, "")
        )
        return _page(code, str(text)), code

    @app.errorhandler(psycopg.OperationalError)
    def _db_down(err: psycopg.OperationalError) -> tuple[str, int]:
        log.error("dashboard: database unreachable: %s", type(err).__name__)
        return _page(
            503, i18n.gettext("Try again in a few minutes. No data at the portal is lost.")
        ), 503

    @app.errorhandler(Exception)
    def _unexpected(err: Exception) -> tuple[str, int]:
        log.exception("dashboard: unexpected error")
        return _page(500, i18n.gettext("The error has been logged. Try again later.")), 500

    return app


def _page(code: int, text: str) -> str:
    title = ERROR_TITLES.get(code) or i18n.gettext("An error occurred")
    return render_template("error.html", code=code, title=str(title), text=text)
