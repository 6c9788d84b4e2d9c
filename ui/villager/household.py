"""The household and needs questionnaire, rendered generically from the form definition.

One question per screen (one action per screen), or the few closely related questions of a
``one_screen`` page (the household counts); a screen's answers are validated together and
handed to the registration service, which keeps them in the session's memory and decides when
the questionnaire is done.
"""

from __future__ import annotations

from typing import Any

from flask import redirect, request, url_for
from werkzeug.wrappers import Response

from kiosk.core.session import State
from kiosk.services.registration import RegistrationView, newly_found
from ui.forms_view import answer_as_raw, screen_prompt, screens, validate_screen
from ui.villager import bp
from ui.villager.common import go_to_state, in_state, lang, screen, svc
from ui.villager.members import is_members_screen, members_next, render_list


@bp.get("/household", defaults={"page": 0})
@bp.get("/household/<int:page>")
@in_state(State.HOUSEHOLD)
def household(token: str, reg: RegistrationView, page: int) -> Any:
    """One screen of the questionnaire."""
    pages = screens(svc().questionnaire(), lang(), reg.answers)
    if not pages:
        return go_to_state(svc().registration.household(token, dict(reg.answers)))
    page = max(0, min(page, len(pages) - 1))
    view = pages[page]
    if is_members_screen(view):
        if not reg.answers.get(view.questions[0].id):  # nobody yet: add the first one
            return redirect(url_for("villager.member", page=page))
        return render_list(reg, page, view)
    current = {q.id: answer_as_raw(q, reg.answers.get(q.id)) for q in view.questions}
    return _question_screen(view, page, len(pages), current, {})


@bp.post("/household/<int:page>")
@in_state(State.HOUSEHOLD)
def household_post(token: str, reg: RegistrationView, page: int) -> Any:
    """Validate this screen's answers; then the next screen, or consent after the last."""
    form = svc().questionnaire()
    pages = screens(form, lang(), reg.answers)
    if not pages:
        return redirect(url_for("villager.household"))
    page = max(0, min(page, len(pages) - 1))
    if request.form.get("action") == "back":
        return _go(page - 1) if page > 0 else redirect(url_for("villager.result"))
    view = pages[page]
    if is_members_screen(view):
        refused = members_next(reg, page, view)
        if refused is not None:
            return refused
    raw = dict(reg.answers) if is_members_screen(view) else request.form
    values, errors = validate_screen(
        form, view, raw, lang(), reg.answers, svc().registration.today()
    )
    if errors:
        current = {q.id: _submitted(q.id, q.widget) for q in view.questions}
        return _question_screen(view, page, len(pages), current, errors), 422
    after = screens(form, lang(), {**reg.answers, **values})  # answers may show or hide some
    known = _family_card_known(token, view, values)
    now = svc().registration.answer(token, values, more_screens=page + 1 < len(after))
    if now.state is State.HOUSEHOLD:
        if known:
            return redirect(url_for("villager.family_known", page=page + 1))
        return _go(page + 1)
    return go_to_state(now)  # consent, or straight back to review when it was already given


def _family_card_known(token: str, view: Any, values: dict[str, Any]) -> bool:
    """After a No. KK answer: True when this family card is newly found registered here (the
    person and the agent are told before going on; the registration becomes an update)."""
    for q in view.questions:
        question = svc().form.question(q.id)
        if question is not None and question.check == "kk_number" and q.id in values:
            before = svc().registration.known_family(token)
            return newly_found(before, svc().registration.family_card(token, str(values[q.id])))
    return False


def _question_screen(
    view: Any, page: int, count: int, current: dict[str, Any], errors: dict[str, Any]
) -> str:
    """Screen ``page`` of ``count`` with its ``current`` answers and ``errors`` (spoken first)."""
    return screen(
        "villager/household.html",
        page=view,
        index=page,
        count=count,
        current=current,
        errors=errors,
        prompt=screen_prompt(view, errors),
        checking=_asks_portal(view),
    )


def _asks_portal(view: Any) -> bool:
    """True when Next on this screen asks the portal about the No. KK (the person hears
    "checking the family card..." while the kiosk waits, 3 s at most)."""
    return svc().registration.family_lookup_online and any(
        (q := svc().form.question(v.id)) is not None and q.check == "kk_number"
        for v in view.questions
    )


def _submitted(qid: str, widget: str) -> Any:
    return request.form.getlist(qid) if widget == "multi" else request.form.get(qid, "")


def _go(page: int) -> Response:
    return redirect(url_for("villager.household", page=page))
