"""Helpers shared by the villager screens: services, tokens, where a session belongs, rendering."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

from flask import current_app, redirect, render_template, request, session, url_for
from markupsafe import Markup, escape
from werkzeug.wrappers import Response

from kiosk.core.session import State
from kiosk.errors import SessionExpired
from kiosk.services.registration import RegistrationView
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


def reg_token() -> str:
    """This browser's registration token ("" without one)."""
    token = session.get(REG)
    return token if isinstance(token, str) else ""


def go_to_state(reg: RegistrationView) -> Response:
    """Redirect to the screen the registration's state belongs on."""
    return redirect(url_for(SCREEN_FOR_STATE.get(reg.state, "villager.attract")))


def in_state(*states: State) -> Callable[[F], F]:
    """Screen decorator: needs a live registration in one of ``states`` (else redirect); the
    view gets the token and a read-only :class:`RegistrationView` (the request's one lookup)."""

    def deco(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            token, service = reg_token(), svc().registration
            try:  # a POST is the person's activity: touched in the same lookup
                reg = service.touch(token) if request.method == "POST" else service.view(token)
            except SessionExpired:
                return redirect(url_for("villager.ended"))
            if reg.state not in states:
                return go_to_state(reg)
            return view(token, reg, *args, **kwargs)

        wrapper.session_step = True  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return deco


def step(view: F) -> F:
    """Step decorator (POST): the view hands the token to one service call, which looks the
    session up, checks its state and counts as the person's activity. A step out of place
    (FlowError) or after a time-out (SessionExpired) is redirected by the blueprint's handlers."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return view(reg_token(), *args, **kwargs)

    wrapper.session_step = True  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def is_step(endpoint: str | None) -> bool:
    """True when ``endpoint`` is a :func:`step` or :func:`in_state` view (its own lookup
    applies the person's activity)."""
    found = current_app.view_functions.get(endpoint or "")
    return bool(getattr(found, "session_step", False))


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


def camera_screen(action: str, coaching: str | None, attempt: int, budget: int, **more: Any) -> str:
    """The face camera screen (registration and status check) posting to ``action``: the
    coaching for ``coaching`` (a code) or none, and "attempt ``attempt`` of ``budget``"
    (``budget`` 0: not shown)."""
    from ui.texts import COACHING

    return screen(
        "villager/capture.html",
        action=action,
        coaching=str(COACHING.get(coaching, COACHING["no_face"])) if coaching else None,
        live=svc().live is not None,
        attempt=attempt,
        budget=budget,
        **more,
    )
