"""Helpers shared by the villager screens: services, tokens, where a session belongs, rendering."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

from flask import current_app, redirect, render_template, session, url_for
from markupsafe import Markup, escape
from werkzeug.wrappers import Response

from kiosk.core.session import RegistrationSession, State
from kiosk.errors import SessionExpired
from ui import UI_DIR, UiServices

REG, STATUS = "reg", "st"
"""Flask session keys holding the registration and status-check tokens (nothing else)."""

SCREEN_FOR_STATE: dict[State, str] = {
    State.IDENTIFY: "villager.identify",
    State.CAPTURE: "villager.capture",
    State.VERIFY: "villager.capture",
    State.NEEDS_AGENT: "villager.result",
    State.HOUSEHOLD: "villager.household",
    State.CONSENT: "villager.consent",
    State.REVIEW: "villager.review",
    State.SUBMITTED: "villager.receipt",
}
"""Which screen a registration in each state belongs on."""

ICONS_DIR = UI_DIR / "static" / "icons"
_ICONS: frozenset[str] = frozenset(p.stem for p in ICONS_DIR.glob("*.svg"))

F = TypeVar("F", bound=Callable[..., Any])


def svc() -> UiServices:
    """The UI services of the running app."""
    found = current_app.extensions["kiosk_ui"]
    assert isinstance(found, UiServices)
    return found


def lang() -> str:
    """The language of this browser session."""
    chosen = session.get("lang")
    default = current_app.config["KIOSK_DEFAULT_LANGUAGE"]
    return chosen if isinstance(chosen, str) and chosen in svc().languages else default


def reg_session() -> tuple[str, RegistrationSession]:
    """The token and live registration of this browser; raises SessionExpired."""
    token = session.get(REG)
    return str(token or ""), svc().registration.get(token if isinstance(token, str) else None)


def go_to_state(reg: RegistrationSession) -> Response:
    """Redirect to the screen the registration's state belongs on."""
    return redirect(url_for(SCREEN_FOR_STATE.get(reg.state, "villager.attract")))


def in_state(*states: State) -> Callable[[F], F]:
    """View decorator: needs a live registration in one of ``states``, else redirect."""

    def deco(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                token, reg = reg_session()
            except SessionExpired:
                return redirect(url_for("villager.ended"))
            if reg.state not in states:
                return go_to_state(reg)
            return view(token, reg, *args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return deco


def speak(text: Any, personal: bool = False) -> str:
    """URL of the spoken version of ``text`` (empty when speech is off)."""
    speech = svc().speech
    if speech is None:
        return ""
    key = speech.register(str(text), lang(), personal=personal)
    return url_for("villager.speech", key=key) if key else ""


def icon(name: str | None, css: str = "icon") -> Markup:
    """An ``<img>`` for a pictogram in ``static/icons``; a generic one when it is missing."""
    chosen = name if name and name in _ICONS else "generic"
    src = url_for("static", filename=f"icons/{chosen}.svg")
    return Markup('<img class="{}" src="{}" alt="">').format(escape(css), src)


def screen(template: str, **context: Any) -> str:
    """Render a villager screen with the shared globals."""
    return render_template(template, **context)


def icon_names() -> frozenset[str]:
    """Names of the pictograms shipped in ``static/icons``."""
    return _ICONS


def icon_path(name: str) -> Path:
    """Path of one pictogram file."""
    return ICONS_DIR / f"{name}.svg"
