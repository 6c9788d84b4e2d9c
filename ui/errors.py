"""Errors at the edge: every ``KioskError`` (and anything unexpected) reaches the person as a
translated, spoken screen with a way on, never a bare 500.

One table, :data:`ERROR_SCREENS`, maps an error class to the words the person sees and hears
(the pattern of Home Assistant's ``exception_handler`` + ``strings.json``: library errors are
raised as the kiosk's own classes, and the edge turns a class into a translation key). The most
specific class in an error's MRO wins. The running registration is *kept*: the screen's way on
leads back to where the person was, so nothing they answered is lost.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from flask import Flask, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from kiosk.errors import (
    AgentAuthError,
    CameraError,
    ConfigError,
    CryptoError,
    FlowError,
    HardwareError,
    ImageError,
    InputError,
    KioskError,
    ModelError,
    ProtocolError,
    SessionExpired,
    StorageFullError,
    StoreError,
    UplinkError,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ErrorScreen:
    """What one kind of error says: title, what it means for the person, and HTTP status."""

    title: Any
    body: Any
    status: int = 503
    icon: str = "warning"


GENERIC = ErrorScreen(
    _l("Something went wrong"),
    _l(
        "The kiosk could not finish this step. Nothing you entered has been lost. "
        "Please try again, or call an agent."
    ),
    500,
)
"""For errors the table does not name (and for anything that is not a KioskError)."""

ERROR_SCREENS: dict[type[Exception], ErrorScreen] = {
    StorageFullError: ErrorScreen(
        _l("The kiosk's storage is full"),
        _l(
            "Your answers are kept on this screen, but the kiosk cannot save new "
            "registrations until the office frees space. Please call an agent or ask at the "
            "village office counter."
        ),
        507,
    ),
    StoreError: ErrorScreen(
        _l("The kiosk could not save"),
        _l("Your answers are kept on this screen. Please try again in a moment, or call an agent."),
    ),
    CameraError: ErrorScreen(
        _l("The camera is not working"),
        _l("The photo cannot be taken right now. An agent can help you, or try again later."),
        icon="camera",
    ),
    ModelError: ErrorScreen(
        _l("The face check is not available"),
        _l("The kiosk cannot check faces right now. An agent can help you register."),
    ),
    ImageError: ErrorScreen(
        _l("The photo could not be used"),
        _l("Please try the photo again. An agent can help you if it keeps failing."),
        422,
        "retry",
    ),
    HardwareError: ErrorScreen(
        _l("A part of the kiosk is not working"),
        _l("Please try again, or ask at the village office counter."),
    ),
    UplinkError: ErrorScreen(
        _l("No connection to the office"),
        _l("The kiosk works without the connection too. Please try again."),
    ),
    ProtocolError: ErrorScreen(
        _l("A message from the office could not be read"),
        _l("Nothing you entered has been lost. Please try again."),
    ),
    CryptoError: ErrorScreen(
        _l("The kiosk could not protect your data"),
        _l("Nothing was sent. Please call an agent; the office will fix the kiosk."),
    ),
    ConfigError: ErrorScreen(
        _l("The kiosk is not set up correctly"),
        _l("Please ask at the village office counter; a technician must fix the kiosk."),
    ),
    AgentAuthError: ErrorScreen(
        _l("Agent login needed"),
        _l("Only a logged-in agent can do this. Please log in again."),
        403,
        "lock",
    ),
    SessionExpired: ErrorScreen(
        _l("This session has ended"),
        _l("For your privacy, the data of an unfinished session is erased. Please start again."),
        410,
        "clock",
    ),
    FlowError: ErrorScreen(
        _l("This step is not possible now"),
        _l("Nothing you entered has been lost. Please go back and continue."),
        409,
    ),
    InputError: ErrorScreen(
        _l("Please check what you entered"),
        _l("Something you entered could not be used. Please go back and try again."),
        422,
    ),
    KioskError: GENERIC,
}
"""Error class -> its screen; the most specific class in the error's MRO is used."""

HTTP_SCREENS: dict[int, ErrorScreen] = {
    404: ErrorScreen(
        _l("This page does not exist"),
        _l("Please go back to the start."),
        404,
    ),
    405: ErrorScreen(
        _l("This page does not exist"),
        _l("Please go back to the start."),
        405,
    ),
}
"""HTTP errors the person may meet (a stale link); others use :data:`GENERIC`."""


def screen_for(err: BaseException) -> ErrorScreen:
    """The screen for ``err``: the table entry of the most specific class in its MRO."""
    for cls in type(err).__mro__:
        found = ERROR_SCREENS.get(cls)
        if found is not None:
            return found
    return GENERIC


def _way_on() -> tuple[str, Any]:
    """(URL, button words) leading back to where the person was; the start when nothing runs."""
    from ui.villager.common import REG, SCREEN_FOR_STATE, svc

    token = session.get(REG)
    if isinstance(token, str):
        try:
            reg = svc().registration.view(token)
        except KioskError:
            pass
        else:
            return url_for(SCREEN_FOR_STATE.get(reg.state, "villager.attract")), _l("Go back")
    if request.blueprint == "agent":
        return url_for("agent.index"), _l("Go back")
    return url_for("villager.attract"), _l("Back to the start")


def render_error(found: ErrorScreen) -> tuple[str, int]:
    """The error screen for ``found``, spoken, with a way on."""
    try:
        back, back_text = _way_on()
    except Exception:  # the error screen itself must never fail
        back, back_text = "/", _l("Back to the start")
    page = render_template(
        "error.html",
        title=str(found.title),
        body=str(found.body),
        pict=found.icon,
        back=back,
        back_text=str(back_text),
    )
    return page, found.status


def register_error_screens(app: Flask) -> None:
    """Install the error handlers on ``app`` (after the blueprints' own, which run first)."""

    @app.errorhandler(KioskError)
    def _kiosk_error(err: KioskError) -> tuple[str, int]:
        log.warning("%s on %s: shown as an error screen", type(err).__name__, request.path)
        return render_error(screen_for(err))

    @app.errorhandler(HTTPException)
    def _http_error(err: HTTPException) -> Any:
        if err.code is None or err.code < 400 or err.code == 400:
            return err  # 400 is handled by the villager blueprint (stale CSRF: start cleanly)
        found = HTTP_SCREENS.get(err.code)
        return render_error(found or ErrorScreen(GENERIC.title, GENERIC.body, err.code))

    @app.errorhandler(Exception)
    def _unexpected(err: Exception) -> tuple[str, int]:
        log.exception("unexpected error on %s", request.path)
        return render_error(GENERIC)
