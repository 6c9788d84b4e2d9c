"""The regency dashboard: a server-rendered Flask app over the portal's PostgreSQL database.

Officials (roles village, kecamatan, regency) log in and see registrations, verification
outcomes, agent assistance, face failures, spoof attempts, objections and kiosk health for their
own area and the areas inside it. No script, no file from elsewhere, Bahasa Indonesia; never a
NIK. Runs on the portal (never on a kiosk); see ``python -m portal.dashboard --help``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from flask import Flask, g, render_template
from werkzeug.exceptions import HTTPException

from portal.dashboard.officials import AddressThrottle
from portal.dashboard.security import harden
from portal.dashboard.views import bp

log = logging.getLogger("portal.dashboard")

ERROR_TITLES: dict[int, str] = {
    400: "Permintaan tidak dapat diproses",
    403: "Bukan wilayah Anda",
    404: "Halaman tidak ditemukan",
    405: "Permintaan tidak diizinkan",
    413: "Isian terlalu besar",
    429: "Terlalu banyak percobaan",
    500: "Terjadi kesalahan di portal",
    503: "Basis data portal tidak dapat dihubungi",
}
"""Indonesian title of each error page."""

_DEFAULTS: dict[int, str] = {
    400: "Periksa alamat atau isian lalu coba lagi.",
    404: "Alamat ini tidak ada di dasbor. Kembali ke halaman wilayah Anda.",
    405: "Gunakan tombol dan tautan di halaman.",
    413: "Isian formulir terlalu panjang.",
}
_DESCRIPTIONS: dict[str, str] = {
    "csrf": "Formulir ini sudah kedaluwarsa. Muat ulang halaman lalu coba lagi.",
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
    app.register_blueprint(bp)

    @app.teardown_appcontext
    def _close(_exc: BaseException | None) -> None:
        conn = g.pop("db", None)
        if conn is not None:
            conn.close()

    @app.errorhandler(HTTPException)
    def _http_error(err: HTTPException) -> tuple[str, int]:
        code = err.code or 500
        own = err.description != type(err).description  # ours, already Indonesian
        text = _DESCRIPTIONS.get(str(err.description)) or (
            str(err.description) if own else _DEFAULTS.get(code, "")
        )
        return _page(code, text), code

    @app.errorhandler(psycopg.OperationalError)
    def _db_down(err: psycopg.OperationalError) -> tuple[str, int]:
        log.error("dashboard: database unreachable: %s", type(err).__name__)
        return _page(503, "Coba lagi beberapa menit lagi. Data di portal tidak hilang."), 503

    @app.errorhandler(Exception)
    def _unexpected(err: Exception) -> tuple[str, int]:
        log.exception("dashboard: unexpected error")
        return _page(500, "Kesalahan sudah dicatat. Coba lagi nanti."), 500

    return app


def _page(code: int, text: str) -> str:
    title = ERROR_TITLES.get(code, "Terjadi kesalahan")
    return render_template("error.html", code=code, title=title, text=text)
