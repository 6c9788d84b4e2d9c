"""Agent login, home, help requests, assisted registration and vouching."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from flask import redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from kiosk.agents.accounts import Permission
from kiosk.agents.service import AgentSession
from kiosk.core.session import State
from kiosk.core.vouch import REASONS
from kiosk.errors import AgentAuthError, FlowError, InputError, LoginThrottled
from kiosk.services.registration import RegistrationView
from ui.agent import bp
from ui.agent.common import AGENT, agents, logged_in, waiting_registration
from ui.villager.common import REG, go_to_state, svc

log = logging.getLogger(__name__)

ASSISTABLE: frozenset[State] = frozenset(
    {State.IDENTIFY, State.CAPTURE, State.VERIFY, State.NEEDS_AGENT, State.HOUSEHOLD}
)
"""States of a running registration an agent may join as "assisted by"."""


def _throttled(err: LoginThrottled) -> str:
    return _("Too many wrong attempts. Try again in %(s)s seconds.", s=int(err.wait_s + 0.999))


def _login_page(error: str | None = None, selected: str | None = None, status: int = 200) -> Any:
    waiting_registration()  # a resident waiting for a vouch must not time out meanwhile
    people = [(a, _(a.role_info.label)) for a in agents().accounts.all() if a.has_template]
    return (
        render_template("agent/login.html", people=people, error=error, selected=selected),
        status,
    )


@bp.get("/")
def index() -> Response:
    """Home when logged in, else the login screen."""
    return redirect(url_for("agent.home" if agents().active() else "agent.login"))


@bp.get("/login")
def login() -> Any:
    """Choose yourself, type your PIN on the keypad."""
    return _login_page()


@bp.post("/login")
def login_post() -> Any:
    """Check the PIN; on success go on to the face check."""
    agent_id = request.form.get("agent_id", "")[:40]
    pin = request.form.get("pin", "")[:20]
    try:
        agents().login_pin(agent_id, pin)
    except LoginThrottled as err:
        return _login_page(_throttled(err), agent_id, 429)
    except AgentAuthError:
        return _login_page(_("Wrong agent or PIN. Please try again."), agent_id, 422)
    return redirect(url_for("agent.face"))


@bp.get("/face")
def face() -> Any:
    """Look at the camera to finish logging in."""
    pending = agents().pending_face()
    if pending is None:
        return redirect(url_for("agent.login"))
    return render_template("agent/face.html", agent=pending, error=None)


@bp.post("/face")
def face_post() -> Any:
    """Match the agent's live face against their enrolled template."""
    waiting_registration()
    pending = agents().pending_face()
    if pending is None:
        return redirect(url_for("agent.login"))
    try:
        session[AGENT] = agents().login_face()
    except LoginThrottled as err:
        return _login_page(_throttled(err), pending.agent_id, 429)
    except AgentAuthError:
        return _login_page(
            _("Your face did not match. Please type your PIN again."), pending.agent_id, 422
        )
    return redirect(url_for("agent.home"))


@bp.get("/home")
@logged_in
def home(current: AgentSession) -> str:
    """The agent's screen: duty, help requests, the resident waiting, registrations, roster."""
    waiting = waiting_registration()
    reg = waiting[1] if waiting else None
    return render_template(
        "agent/home.html",
        agent=current.agent,
        role=_(current.agent.role_info.label),
        help_requests=agents().pending_help(),
        needs_vouch=reg is not None and reg.state is State.NEEDS_AGENT,
        can_join=reg is not None and reg.state in ASSISTABLE and reg.assisted_by is None,
        can_roster=current.agent.may(Permission.ROSTER),
        on_duty=[a.display_name for a in agents().on_duty()],
        status_lookup=svc().status is not None,
    )


@bp.post("/logout")
def logout() -> Response:
    """Log out (the villager's registration, if any, carries on)."""
    token = session.pop(AGENT, None)
    agents().logout(token if isinstance(token, str) else None)
    return redirect(url_for("villager.attract"))


@bp.post("/duty")
@logged_in
def duty(current: AgentSession) -> Response:
    """Go on or off duty."""
    agents().set_duty(current.token, request.form.get("on") == "1")
    return redirect(url_for("agent.home"))


@bp.post("/help/<request_id>")
@logged_in
def take_help(current: AgentSession, request_id: str) -> Response:
    """Take a help request."""
    with contextlib.suppress(InputError):  # someone else took it meanwhile; the list refreshes
        agents().take_help(current.token, request_id[:40])
    return redirect(url_for("agent.home"))


@bp.post("/assist")
@logged_in
def assist(current: AgentSession) -> Response:
    """Join the registration running here, or start a new one, as "assisted by" this agent."""
    waiting = waiting_registration()
    if waiting is not None and waiting[1].state in ASSISTABLE:
        agents().assist(current.token, waiting[0])
        return go_to_state(waiting[1])
    session[REG] = agents().start_assisted(current.token)
    return redirect(url_for("villager.identify"))


@bp.get("/vouch")
@logged_in
def vouch(current: AgentSession) -> Any:
    """Why the resident's face check failed; then photo and the agent's own face."""
    if _needing_vouch() is None:
        return redirect(url_for("agent.home"))
    return _vouch_page(None, None, 200)


def _needing_vouch() -> tuple[str, RegistrationView] | None:
    """The registration waiting here for an agent after failed face checks, or None."""
    waiting = waiting_registration()
    return waiting if waiting is not None and waiting[1].state is State.NEEDS_AGENT else None


def _vouch_page(error: str | None, chosen: str | None, status: int) -> Any:
    reasons = [(r.code, _(r.label)) for r in REASONS.values()]
    return render_template("agent/vouch.html", reasons=reasons, error=error, chosen=chosen), status


@bp.post("/vouch")
@logged_in
def vouch_post(current: AgentSession) -> Any:
    """Record the vouch (photo + co-signature) and continue the resident's registration."""
    waiting = _needing_vouch()
    if waiting is None:
        return redirect(url_for("agent.home"))
    reason = request.form.get("reason", "")
    if reason not in REASONS:
        return _vouch_page(_("Choose why the face check failed."), None, 422)
    try:
        agents().vouch(current.token, waiting[0], reason)
    except LoginThrottled as err:
        return _vouch_page(_throttled(err), reason, 429)
    except AgentAuthError:
        return _vouch_page(
            _("Your face did not match, so the vouch was not recorded. Please try again."),
            reason,
            422,
        )
    except (InputError, FlowError) as err:
        log.warning("vouch not recorded: %s", type(err).__name__)
        return _vouch_page(
            _("The photo could not be taken. Check the camera and try again."), reason, 422
        )
    return go_to_state(svc().registration.view(waiting[0]))  # vouched: on to the questionnaire
