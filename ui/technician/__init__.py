"""The local technician page under ``/technician``: provisioning status, village binding,
self-test and the report, behind the technician password (``kiosk-provision
technician-password``). Loopback only; every form carries the CSRF token."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext
from werkzeug.wrappers import Response

from kiosk.core.clock import SystemClock
from provisioning.context import Context, no_one_to_ask
from provisioning.technician import LoginGate, is_set

bp = Blueprint("technician", __name__, url_prefix="/technician", template_folder="templates")

LOOPBACK = frozenset({"127.0.0.1", "::1"})
SESSION_KEY = "technician_until"
SESSION_S = 30 * 60.0
"""A technician login lasts this long (seconds of wall time)."""
OPEN_ENDPOINTS = frozenset({"technician.login", "technician.login_post"})


def data_dir() -> Path:
    """The kiosk's data directory: the app's KIOSK_DATA_DIR, else the UI config's."""
    configured = current_app.config.get("KIOSK_DATA_DIR")
    if configured:
        return Path(configured)
    from ui import services

    return Path(services(current_app).cfg.paths.data_dir)


def context() -> Context:
    """A provisioning context for this request (nobody can answer questions on the page)."""
    probes = current_app.config.get("KIOSK_TECHNICIAN_PROBES")
    return Context(data_dir(), confirm=no_one_to_ask, say=lambda _line: None, probes=probes)


def _gate() -> LoginGate:
    gate = current_app.extensions.get("kiosk_technician_gate")
    if gate is None:
        gate = LoginGate(SystemClock())
        current_app.extensions["kiosk_technician_gate"] = gate
    assert isinstance(gate, LoginGate)
    return gate


@bp.before_request
def _guard() -> Response | None:
    if request.remote_addr not in LOOPBACK:
        abort(403)
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    until = session.get(SESSION_KEY)
    if not isinstance(until, int | float) or until < time.time():
        session.pop(SESSION_KEY, None)
        return redirect(url_for("technician.login"))
    return None


@bp.get("/login")
def login() -> str:
    """The password form."""
    ctx = context()
    return render_template("technician/login.html", configured=is_set(ctx.layout), error=None)


@bp.post("/login")
def login_post() -> Response | tuple[str, int]:
    """Check the password (throttled); start a 30-minute technician session."""
    ctx = context()
    gate = _gate()
    if gate.attempt(ctx.layout, request.form.get("password", "")):
        session[SESSION_KEY] = time.time() + SESSION_S
        return redirect(url_for("technician.home"))
    wait = gate.locked_for()
    error = (
        gettext("Too many wrong passwords. Try again in %(n)s minute(s).", n=int(wait // 60) + 1)
        if wait > 0
        else gettext("Wrong password.")
    )
    page = render_template("technician/login.html", configured=is_set(ctx.layout), error=error)
    return page, 401


@bp.post("/logout")
def logout() -> Response:
    """End the technician session."""
    session.pop(SESSION_KEY, None)
    return redirect(url_for("technician.login"))


def _home(message: str | None = None, error: Any = None) -> str:
    from provisioning.steps import status
    from ui.technician.texts import ERROR_FIXES, STATES, STEP_TITLES

    rows = []
    for step, rec, ok in status(context()):
        state = "done" if ok else (rec.status if rec else "not started")
        code = getattr(rec, "code", None) if rec and not ok else None
        fix = ERROR_FIXES.get(code or "") if code else None
        rows.append(
            {
                "name": step.name,
                "title": str(STEP_TITLES.get(step.name, step.title)),
                "state": state,
                "state_text": str(STATES.get(state, state)),
                "error": rec.error if rec and not ok else None,
                "fix": str(fix) if fix is not None else (rec.fix if rec and not ok else None),
            }
        )
    return render_template("technician/home.html", rows=rows, message=message, error=error)


@bp.get("/")
def home() -> str:
    """Every step with its state, and what to do about the one that failed."""
    return _home()


@bp.post("/village")
def village() -> str:
    """Bind the kiosk to a village (same checks as ``kiosk-provision village``)."""
    from provisioning.steps import run_step

    inputs = {k: request.form.get(k, "").strip() for k in ("village_code", "name", "location")}
    out = run_step(context(), "village", inputs)
    if out.error is not None:
        return _home(error=out.error)
    code = out.summary.get("village_code")
    return _home(message=gettext("Village %(code)s saved.", code=code))


@bp.post("/selftest")
def selftest() -> str:
    """Run the self-test; lights and buttons stay 'unconfirmed' (use the command for them)."""
    from provisioning.selftest import CheckResult, run_selftest
    from ui.technician.texts import CHECK_RESULTS, check_fix, check_name

    ctx = context()
    result = run_selftest(ctx, ctx.probes, cfg=running_config())
    rows = [
        {
            **c,
            "detail": CheckResult(**c).text(gettext),  # the catalogue's words, not the console's
            "title": check_name(c["name"]),
            "result": str(CHECK_RESULTS.get(c["status"], c["status"])),
            "fix_text": str(check_fix(c["name"]) or c.get("fix") or ""),
        }
        for c in result["checks"]
    ]
    return render_template("technician/selftest.html", result=result, rows=rows)


def running_config() -> Any:
    """The configuration the running kiosk uses (its broker host and port), when mounted in it.

    The self-test must check what the kiosk really uses, not the defaults of a missing or
    different ``kiosk.toml`` (a false failure on port 1883)."""
    configured = current_app.config.get("KIOSK_CONFIG")
    if configured is not None:
        return configured
    ui = current_app.extensions.get("kiosk_ui")
    return getattr(ui, "cfg", None)


@bp.get("/report")
def report() -> str:
    """The human-readable provisioning report."""
    path = context().layout.report_text
    text = path.read_text(encoding="utf-8") if path.is_file() else None
    return render_template("technician/report.html", text=text)


def register(app: Flask) -> None:
    """Mount the technician page on ``app``."""
    app.register_blueprint(bp)
