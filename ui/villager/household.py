"""The household and needs questionnaire, rendered generically from the form definition.

One question per screen (one action per screen), or the few closely related questions of a
``one_screen`` page (the household counts); a screen's answers are validated together and kept
in the registration session's memory until the last screen hands them to the service.
"""

from __future__ import annotations

from typing import Any

from flask import redirect, request, session, url_for
from werkzeug.wrappers import Response

from kiosk.core.forms import missing_questions
from kiosk.core.session import RegistrationSession, State
from ui.forms_view import answer_as_raw, finalise, screen_prompt, screens, validate_screen
from ui.villager import bp
from ui.villager.common import go_to_state, in_state, lang, screen, svc
from ui.villager.members import is_members_screen, members_next, render_list


@bp.get("/household", defaults={"page": 0})
@bp.get("/household/<int:page>")
@in_state(State.HOUSEHOLD)
def household(token: str, reg: RegistrationSession, page: int) -> Any:
    """One screen of the questionnaire."""
    pages = screens(svc().form, lang(), reg.data.answers)
    if not pages:
        svc().registration.household(token, dict(reg.data.answers))
        return go_to_state(reg)
    page = max(0, min(page, len(pages) - 1))
    view = pages[page]
    if is_members_screen(view):
        if not reg.data.answers.get(view.questions[0].id):  # nobody yet: add the first one
            return redirect(url_for("villager.member", page=page))
        return render_list(reg, page, view)
    current = {q.id: answer_as_raw(q, reg.data.answers.get(q.id)) for q in view.questions}
    return screen(
        "villager/household.html",
        page=view,
        index=page,
        count=len(pages),
        current=current,
        errors={},
        prompt=screen_prompt(view, {}),
    )


@bp.post("/household/<int:page>")
@in_state(State.HOUSEHOLD)
def household_post(token: str, reg: RegistrationSession, page: int) -> Any:
    """Validate this screen's answers; then the next screen, or consent after the last."""
    form = svc().form
    pages = screens(form, lang(), reg.data.answers)
    if not pages:
        return redirect(url_for("villager.household"))
    page = max(0, min(page, len(pages) - 1))
    if request.form.get("action") == "back":
        return _go(page - 1) if page > 0 else redirect(url_for("villager.result"))
    view = pages[page]
    if is_members_screen(view):
        refused = members_next(token, reg, page, view)
        if refused is not None:
            return refused
    raw = reg.data.answers if is_members_screen(view) else request.form
    values, errors = validate_screen(form, view, raw, lang(), reg.data.answers, svc().today())
    if errors:
        current = {q.id: _submitted(q.id, q.widget) for q in view.questions}
        return screen(
            "villager/household.html",
            page=view,
            index=page,
            count=len(pages),
            current=current,
            errors=errors,
            prompt=screen_prompt(view, errors),
        ), 422
    reg.data.answers.update(values)
    known = _family_card_known(token, view, values)
    pages = screens(form, lang(), reg.data.answers)  # answers may show or hide questions
    if known:
        return redirect(url_for("villager.family_known", page=page + 1))
    one_change = session.pop("from_review", False) and not missing_questions(form, reg.data.answers)
    if page + 1 < len(pages) and not one_change:
        return _go(page + 1)
    svc().registration.household(token, finalise(form, reg.data.answers))
    return go_to_state(reg)  # consent, or straight back to review when it was already given


def _family_card_known(token: str, view: Any, values: dict[str, Any]) -> bool:
    """After a No. KK answer: True when this family card is already registered here (the
    person and the agent are told before going on; the registration becomes an update)."""
    for q in view.questions:
        question = svc().form.question(q.id)
        if question is not None and question.check == "kk_number" and q.id in values:
            before = svc().registration.known_family(token)
            found = svc().registration.family_card(token, str(values[q.id]))
            return found is not None and (
                before is None or before.registration_id != found.registration_id
            )
    return False


def _submitted(qid: str, widget: str) -> Any:
    return request.form.getlist(qid) if widget == "multi" else request.form.get(qid, "")


def _go(page: int) -> Response:
    return redirect(url_for("villager.household", page=page))
