"""The registration screens: attract, language, menu, identify, face, result, consent, review,
receipt, plus "call an agent" and the end of a session."""

from __future__ import annotations

import logging
from typing import Any

from flask import redirect, request, session, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import SecurityError
from werkzeug.wrappers import Response

from kiosk.core.ids import spoken_digits
from kiosk.core.session import IdCardStep, Outcome, State
from kiosk.errors import FlowError, HardwareError, NikError, SessionExpired
from kiosk.services.ports import Receipt
from kiosk.services.registration import RegistrationView
from ui.language_view import language_choices
from ui.texts import nik_message
from ui.villager import bp
from ui.villager.common import (
    REG,
    STATUS,
    camera_screen,
    go_to_state,
    in_state,
    lang,
    reg_token,
    screen,
    step,
    svc,
)

log = logging.getLogger(__name__)


def _end_all(reason: str, *, keep_language: bool = False) -> None:
    """End this browser's sessions (wiping their data) and forget the tokens.

    ``keep_language``: the same person goes on (e.g. chose a language, then "Register").
    """
    s = svc()
    token = session.pop(REG, None)
    if isinstance(token, str):
        s.registration.end(token, reason)
    st = session.pop(STATUS, None)
    if isinstance(st, str) and s.status is not None:
        s.status.end(st)
    session.pop("print_failed", None)
    session.pop("saved", None)
    if not keep_language:
        session.pop("lang", None)  # the next person starts in the default language
    if s.speech is not None:
        s.speech.forget_personal()


# --- attract, language, menu ---------------------------------------------------------------
@bp.get("/")
def attract() -> str:
    """Attract screen: touch anywhere (or step in front of the sensor) to begin."""
    if not isinstance(session.get(REG), str) and not isinstance(session.get(STATUS), str):
        session.pop("lang", None)  # a new person: default language
    return screen("villager/attract.html", presence=svc().presence is not None)


@bp.get("/language")
def language() -> str:
    """Choose the language (Bahasa Indonesia first)."""
    return screen("villager/language.html", choices=language_choices(svc().languages, svc().speech))


@bp.post("/language")
def set_language() -> Response:
    """Remember the chosen language for this browser session."""
    chosen = request.form.get("lang", "")
    if chosen in svc().languages:
        session["lang"] = chosen
    return redirect(url_for("villager.menu"))


@bp.get("/menu")
def menu() -> str:
    """Register, or check a registration's status."""
    return screen(
        "villager/menu.html",
        status_enabled=svc().status is not None,
        community_enabled=svc().status is not None and "community" in svc().extra,
    )


@bp.post("/register")
def register() -> Response:
    """Start a registration session (ending any other)."""
    _end_all("replaced", keep_language=True)
    session[REG] = svc().registration.start()
    return redirect(url_for("villager.identify"))


# --- identify ------------------------------------------------------------------------------
@bp.get("/identify")
@in_state(State.IDENTIFY)
def identify(token: str, reg: RegistrationView) -> str:
    """The NIK keypad (with the NIK being corrected, if the person came back to fix it)."""
    return screen(
        "villager/identify.html",
        action=url_for("villager.identify_post"),
        error=None,
        typed=reg.typed_nik,
        back=url_for("villager.menu"),
    )


@bp.post("/identify")
@step
def identify_post(token: str) -> Any:
    """Check the typed NIK; on failure say what is wrong, on success go to the camera."""
    text = request.form.get("nik", "")[:64]
    try:
        svc().registration.identify(token, text)
    except NikError as err:
        return screen(
            "villager/identify.html",
            action=url_for("villager.identify_post"),
            error=nik_message(err),
            typed="".join(c for c in text if c.isdigit())[:16],
            back=url_for("villager.menu"),
        ), 422
    return redirect(url_for("villager.capture"))


# --- e-KTP, when the village list has no photo of the person -------------------------------
@bp.get("/idcard")
@in_state(State.CAPTURE)
def idcard(token: str, reg: RegistrationView) -> Any:
    """Ask for the e-KTP at the camera (its photo becomes the reference of the face check)."""
    if not svc().registration.needs_id_card(token):
        return redirect(url_for("villager.capture"))
    return _idcard_screen(None)


def _idcard_screen(coaching: str | None) -> str:
    from ui.texts import COACHING

    return screen(
        "villager/idcard.html",
        action=url_for("villager.idcard_post"),
        skip_url=url_for("villager.idcard_skip"),
        coaching=str(COACHING.get(coaching, COACHING["no_card_face"])) if coaching else None,
        live=svc().live is not None,
    )


@bp.post("/idcard")
@step
def idcard_post(token: str) -> Any:
    """Read the card held to the camera; coach when no card face was found."""
    coaching = svc().registration.read_id_card(token)
    if coaching is not None:
        return _idcard_screen(coaching), 422
    return redirect(url_for("villager.capture"))


@bp.post("/idcard/skip")
@step
def idcard_skip(token: str) -> Response:
    """The person did not bring their e-KTP: the face is captured without a reference and the
    registration goes to the village office's review."""
    svc().registration.skip_id_card(token)
    return redirect(url_for("villager.capture"))


@bp.post("/nik/change")
@step
def change_nik(token: str) -> Response:
    """Back from the face steps to correct the NIK (a typo is not a face problem)."""
    svc().registration.change_nik(token)
    return redirect(url_for("villager.identify"))


# --- face ------------------------------------------------------------------------------------
@bp.get("/face")
@in_state(State.CAPTURE, State.VERIFY)
def capture(token: str, reg: RegistrationView) -> Any:
    """Live preview in an oval guide, with the pipeline's coaching (the e-KTP first, when the
    village list has no photo of the person)."""
    if reg.attempts == 0 and svc().registration.needs_id_card(token):
        return redirect(url_for("villager.idcard"))
    return _capture_screen(reg, None)


def _capture_screen(reg: RegistrationView, coaching: str | None) -> str:
    """The camera screen, with the coaching for ``coaching`` (a code) or none."""
    return camera_screen(
        url_for("villager.capture_post"),
        coaching,
        reg.attempts + 1,
        reg.retry_budget,
        change_url=url_for("villager.change_nik"),
    )


@bp.post("/face")
@step
def capture_post(token: str) -> Any:
    """One capture-and-verify attempt through the registration service."""
    done = svc().registration.check_face(token)
    if done.coaching is not None:
        return _capture_screen(done.view, done.coaching), 422
    return redirect(url_for("villager.result"))


@bp.get("/result")
def result() -> Any:
    """The face result in words, with the next step."""
    try:
        shown = svc().registration.result(reg_token())
    except SessionExpired:
        return redirect(url_for("villager.ended"))
    if shown.variant is None:
        return go_to_state(shown.view)
    receipt_no = shown.existing_no
    return screen(
        "villager/result.html",
        variant=shown.variant,
        existing=shown.existing,
        existing_no=receipt_no,
        spoken_existing=spoken_digits(receipt_no) if receipt_no else "",
        no_card=shown.view.id_card is IdCardStep.NOT_BROUGHT,
    )


@bp.post("/result/retry")
@step
def retry(token: str) -> Response:
    """Try the camera again (never a lock-out: also from the agent offer)."""
    svc().registration.retry(token)
    return redirect(url_for("villager.capture"))


# --- consent, review, receipt --------------------------------------------------------------
@bp.get("/consent")
@in_state(State.CONSENT)
def consent(token: str, reg: RegistrationView) -> str:
    """The consent text (UU 27/2022), read aloud, with agree / do not agree."""
    from ui.forms_view import consent_view

    full = request.args.get("text") == "full"
    if full:
        svc().registration.heard(token, "full")
    view = consent_view(svc().consent, lang())
    return screen("villager/consent.html", consent=view, full=full or not view.summary)


@bp.post("/consent")
@step
def consent_post(token: str) -> Response:
    """Record the decision; refusing ends the session and wipes its data."""
    if request.form.get("decision") == "back":
        svc().registration.edit(token)
        return redirect(url_for("villager.household"))
    given = request.form.get("decision") == "agree"
    svc().registration.consent(token, given)
    if not given:
        _end_all("consent_refused")
        return redirect(url_for("villager.refused"))
    return redirect(url_for("villager.review"))


@bp.get("/refused")
def refused() -> str:
    """Consent was refused: nothing was kept."""
    return screen("villager/refused.html")


@bp.get("/review")
@in_state(State.REVIEW)
def review(token: str, reg: RegistrationView) -> str:
    """Everything the person answered, before sending."""
    from ui.forms_view import review_rows

    local_only = reg.family_check == "kiosk" and svc().registration.known_family(token) is None
    notice = (
        _("The family card was checked at this kiosk only: there is no connection to the office.")
        if local_only
        else ""
    )
    return screen(
        "villager/review.html",
        rows=review_rows(svc().questionnaire(), reg.answers, lang()),
        notice=notice,
    )


@bp.post("/review")
@step
def review_post(token: str) -> Response:
    """Send (commit) the registration, or go back to change the answers."""
    one = request.form.get("edit", "")
    if request.form.get("action") == "edit" or one.isdigit():
        svc().registration.edit(token, one_answer=one.isdigit())  # one: straight back to review
        return redirect(url_for("villager.household", page=int(one) if one.isdigit() else 0))
    receipt_no = svc().registration.submit(token)
    _print(receipt_no)
    return redirect(url_for("villager.receipt"))


def _print(receipt_no: str) -> None:
    printer = svc().printer
    if printer is None:
        return
    cfg = svc().cfg
    try:
        printer.print_receipt(
            Receipt(
                title=_("Social assistance registration"),
                number_label=_("Your registration number"),
                number=receipt_no,
                lines=(
                    cfg.device.name,
                    _("Keep this paper. Use the number to check your status."),
                ),
            )
        )
    except HardwareError as err:
        log.warning("receipt not printed: %s", err)
        session["print_failed"] = True


@bp.get("/receipt")
@in_state(State.SUBMITTED)
def receipt(token: str, reg: RegistrationView) -> str:
    """The registration number on screen, spoken, as a QR code and (if configured) printed."""
    from ui.villager.api import delivery_word

    session["saved"] = True  # if the receipt is left alone: "your registration is saved"
    return screen(
        "villager/receipt.html",
        receipt_no=reg.receipt_no or "",
        spoken_no=spoken_digits(reg.receipt_no or ""),
        printed=svc().printer is not None and not session.get("print_failed"),
        delivery=delivery_word(reg.delivery) or "saved",
        review=reg.outcome in (Outcome.VOUCHED, Outcome.PENDING),
        vouched=reg.outcome is Outcome.VOUCHED,
        no_card=reg.id_card is IdCardStep.NOT_BROUGHT,
        update=reg.updates_existing,
    )


@bp.post("/finish")
def finish() -> Response:
    """Leave: end the session, wipe its data, back to the attract screen."""
    _end_all("finished")
    return redirect(url_for("villager.attract"))


@bp.get("/ended")
def ended() -> str:
    """The session ended (time-out or finished elsewhere); its data was wiped.

    A receipt left alone ends kindly: the registration is saved, the screen goes back to the
    start."""
    saved = bool(session.get("saved"))
    _end_all("timeout")
    return screen("villager/ended.html", saved=saved)


@bp.route("/help", methods=["GET", "POST"])
def help_call() -> str:
    """Call an agent: tell the person help is coming; nothing is lost."""
    if request.method == "POST" and svc().agent is not None:
        try:
            svc().agent.call("button")  # type: ignore[union-attr]
        except HardwareError as err:
            log.warning("agent call failed: %s", err)
    back = request.form.get("back") or request.args.get("back") or url_for("villager.attract")
    if not back.startswith("/") or back.startswith("//"):
        back = url_for("villager.attract")
    return screen("villager/help.html", back=back)


@bp.app_errorhandler(400)
def _bad_request(err: Exception) -> Response:
    """A stale page (e.g. the kiosk restarted and its CSRF token changed): start cleanly.

    An untrusted Host header stays a bare 400 (nothing is built from that host)."""
    if isinstance(err, SecurityError):
        return Response("400 Bad Request", status=400, mimetype="text/plain")
    log.info("bad request on %s: %s", request.path, getattr(err, "description", ""))
    return redirect("/")


@bp.errorhandler(SessionExpired)
def _expired(err: SessionExpired) -> Response:
    return redirect(url_for("villager.ended"))


@bp.errorhandler(FlowError)
def _flow(err: FlowError) -> Response:
    try:
        reg = svc().registration.view(reg_token())
    except SessionExpired:
        return redirect(url_for("villager.ended"))
    return go_to_state(reg)
