"""The dashboard's pages: login, logout, and one page per area scoped to the official's area."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, cast
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from portal.dashboard import i18n, officials, present, queries
from portal.dashboard.areas import Level, parse_area
from portal.dashboard.i18n import _, _l
from portal.dashboard.officials import AddressThrottle, Official

bp = Blueprint("dashboard", __name__)

ROLE_LABEL: dict[Level, object] = {
    Level.VILLAGE: _l("village official"),
    Level.KECAMATAN: _l("kecamatan official"),
    Level.REGENCY: _l("regency official"),
}


def _settings() -> dict[str, Any]:
    return cast(dict[str, Any], current_app.extensions["dashboard"])


def _now() -> float:
    clock = cast(Callable[[], float], _settings()["clock"])
    return clock()


def _db() -> Any:
    if "db" not in g:
        g.db = _settings()["connect"]()
    return g.db


def _current() -> Official | None:
    username = session.get("official")
    if not isinstance(username, str):
        return None
    official = officials.load(_db(), username)
    if official is None:  # deactivated or deleted since the login
        _fresh_session()
    return official


@bp.get("/")
def home() -> Response:
    """The official's own area, or the login page."""
    official = _current()
    if official is None:
        return cast(Response, redirect(url_for("dashboard.login")))
    return cast(Response, redirect(url_for("dashboard.area", code=official.area.code)))


@bp.get("/masuk")
def login() -> str:
    """The login form."""
    return render_template("login.html", error=None, username="", here=url_for(".login"))


@bp.post("/bahasa")
def language() -> Response:
    """Switch the dashboard's language (kept in the session, also across log-in and out)."""
    session[i18n.SESSION_KEY] = i18n.choose(request.form.get("lang"))
    back = request.form.get("next", "")
    if not back.startswith("/") or back.startswith("//") or "\\" in back:
        back = url_for(".home")  # only a path on this site: never an open redirect
    return cast(Response, redirect(back))


def _fresh_session() -> None:
    """Clear the session (a new one at log-in and out), keeping the chosen language."""
    lang = session.get(i18n.SESSION_KEY)
    session.clear()
    if lang is not None:
        session[i18n.SESSION_KEY] = i18n.choose(lang)


def _until(ts: float) -> str:
    zone = ZoneInfo(_settings()["tz"])
    return dt.datetime.fromtimestamp(ts, zone).strftime("%H:%M")


@bp.post("/masuk")
def login_post() -> tuple[str, int] | Response:
    """Check the password; throttled per address, locked per account."""
    throttle = cast(AddressThrottle, _settings()["throttle"])
    address = request.remote_addr or "-"
    username = request.form.get("username", "").strip().lower()[:40]
    password = request.form.get("password", "")[:200]
    blocked = throttle.blocked_until(address)
    if blocked is not None:
        msg = _("Too many wrong attempts. Try again after %(time)s.", time=_until(blocked))
        return render_template("login.html", error=msg, username=username), 429
    result = officials.login(_db(), username, password, _now())
    if result.official is None:
        throttle.failed(address)
        if result.locked_until is not None:
            msg = _(
                "This account is locked for a while after repeated wrong passwords."
                " Try again after %(time)s.",
                time=_until(result.locked_until),
            )
            return render_template("login.html", error=msg, username=username), 429
        msg = _("Wrong user name or password.")
        return render_template("login.html", error=msg, username=username), 401
    _fresh_session()  # a fresh session (and CSRF token) for the logged-in official
    session.permanent = True
    session["official"] = result.official.username
    return cast(Response, redirect(url_for("dashboard.area", code=result.official.area.code)))


@bp.post("/keluar")
def logout() -> Response:
    """End the session."""
    _fresh_session()
    return cast(Response, redirect(url_for("dashboard.login")))


@bp.get("/wilayah/<code>")
def area(code: str) -> str | Response:
    """One area's figures: the official's own area or one inside it."""
    official = _current()
    if official is None:
        return cast(Response, redirect(url_for("dashboard.login")))
    target = parse_area(code)
    if target is None:
        abort(404, description=_("This area code is not recognised."))  # not echoed (a NIK?)
    if not official.area.contains(target):
        abort(403, description=_("This area is outside the area you serve."))
    conn = _db()
    if not queries.area_exists(conn, target):
        abort(404, description=_("Area %(code)s was not found at the portal.", code=target.dotted))
    tz = _settings()["tz"]
    zone = ZoneInfo(tz)
    now = _now()
    today = dt.datetime.fromtimestamp(now, zone).date()
    try:
        period = queries.parse_period(request.args.get("dari"), request.args.get("sampai"),
                                      today, tz)  # fmt: skip
    except queries.PeriodError as err:
        abort(400, description=str(err))
    r = queries.report(conn, target, period, now)
    return render_template(
        "area.html",
        official=official,
        official_area=queries.display_name(official.area, r.names),
        role_label=str(ROLE_LABEL[official.role]),
        here=url_for(".area", code=target.code, dari=r.period.start, sampai=r.period.end),
        r=r,
        title=queries.display_name(target, r.names),
        crumbs=present.breadcrumbs(target, official.area, r.names),
        totals=present.figures(r.totals),
        outcome_bar=present.outcome_bar(r.totals),
        daily_chart=present.charts.daily_bars(r.daily, _("New registrations per day")),
        objections=present.objection_rows(r.totals),
        children=present.child_rows(r, now),
        child_label=present.level_label(target),
        kiosks=present.kiosk_rows(r.kiosks, now, zone, r.names),
        kiosk_total=len(r.kiosks),
        min_cell=present.MIN_CELL,
        hidden=str(present.HIDDEN),  # a str: jinja trusts a lazy string as markup
        number=present.number,
    )
