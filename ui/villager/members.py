"""The KK's member list inside the questionnaire: the list screen and the two member screens.

A ``members`` question (``kiosk.core.forms``) is answered on its own screen: the people added
so far, each with Change / Remove, "Add a member" and Next. A member takes two screens: who the
person is (name, NIK, relation, sex and age when there is no NIK, school, work, long-term
illness), then the Washington Group questions and pregnancy where they are asked (by age and
sex). Every check is the core's (``kiosk.core.members``); each refusal is shown beside its field
and spoken. The list and the member being entered live in the registration session, written
only by the registration service.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from flask import redirect, request, url_for
from flask_babel import format_date as babel_date
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from kiosk.core import members as people
from kiosk.core.forms import derived_answers
from kiosk.core.session import State
from kiosk.languages import translator
from kiosk.services.registration import RegistrationView
from ui.forms_view import ScreenView, screens
from ui.villager import bp
from ui.villager.common import in_state, lang, screen, svc

PERSON_KEYS = ("name", "nik", "relation", "sex", "age", "school", "work", "chronic")


def _tr(msgid: str) -> str:
    """A core msgid in the person's language."""
    return translator(lang())(msgid)


def spoken(parts: Sequence[str]) -> str:
    """Sentences for the spoken prompt: each ends with its own mark, or a full stop."""
    return " ".join(p if p[-1] in ".?!:" else p + "." for p in (x.strip() for x in parts) if p)


def is_members_screen(view: ScreenView) -> bool:
    """True for the screen of a ``members`` question."""
    return len(view.questions) == 1 and view.questions[0].widget == "members"


def _view(reg: RegistrationView, page: int) -> tuple[int, ScreenView] | None:
    pages = screens(svc().questionnaire(), lang(), reg.answers)
    if not pages:
        return None
    page = max(0, min(page, len(pages) - 1))
    view = pages[page]
    return (page, view) if is_members_screen(view) else None


def _list(reg: RegistrationView, qid: str) -> list[dict[str, Any]]:
    value = reg.answers.get(qid)
    return [dict(m) for m in value] if isinstance(value, list) else []


def _choices(group: str) -> list[tuple[str, str]]:
    return [(code, people.label(group, code, _tr)) for code in people.CODE_GROUPS[group]]


def row_words(m: Mapping[str, Any]) -> str:
    """One member as the list shows and speaks it: "Budi, Kepala keluarga, laki-laki, 45"."""
    return _(
        "%(name)s, %(relation)s, %(sex)s, %(age)s years",
        name=m["name"],
        relation=people.label("relation", m["relation"], _tr),
        sex=people.label("sex", m["sex"], _tr).lower(),
        age=m["age"],
    )


def list_problems(
    members: Sequence[Mapping[str, Any]],
) -> tuple[dict[int, str], str | None]:
    """Problems of the whole list: by member position, and one for the list itself."""
    day = svc().registration.today()
    cleaned = []
    for m in members:
        got, _problems = people.check_member(m, day)
        if got is not None:
            cleaned.append(got)
    rows: dict[int, str] = {}
    whole = None
    for p in people.check_household(cleaned):
        if p.index is None:
            whole = whole or p.message(_tr)
        else:
            rows.setdefault(p.index, p.message(_tr))
    return rows, whole


def render_list(
    reg: RegistrationView, page: int, view: ScreenView, status: int = 200
) -> tuple[str, int]:
    """The list screen; after a refused Next, each problem beside its member (and spoken)."""
    q = view.questions[0]
    members = _list(reg, q.id)
    rows, whole = list_problems(members) if status != 200 else ({}, None)
    counts = derived_answers(svc().form, {q.id: members}) if members else {}
    said = [q.label, q.hint if not members else ""]
    if whole:
        said.insert(0, whole)
    for i, m in enumerate(members):
        said += [row_words(m), rows.get(i, "")]
    return screen(
        "villager/members.html",
        page=view,
        q=q,
        index=page,
        members=[(i, m, row_words(m), rows.get(i)) for i, m in enumerate(members)],
        counts=counts,
        whole=whole,
        prompt=spoken(said),
        personal_prompt=True,
    ), status


def members_next(reg: RegistrationView, page: int, view: ScreenView) -> Any:
    """Next on the list screen: the list is checked as a household; None when it passes."""
    members = _list(reg, view.questions[0].id)
    rows, whole = list_problems(members)
    if not members or rows or whole:
        return render_list(reg, page, view, 422)
    return None


def _person_view(
    reg: RegistrationView,
    page: int,
    view: ScreenView,
    values: Mapping[str, Any],
    index: int | None,
    errors: Mapping[str, str],
    status: int,
) -> tuple[str, int]:
    count = len(_list(reg, view.questions[0].id))
    number = (index if index is not None else count) + 1
    title = _("Member %(n)s of the family card", n=number)
    said = [title]
    for key in PERSON_KEYS:
        if key in errors:
            said.append(errors[key])
    if not errors:
        said.append(_("Type the name and the NIK as on the family card."))
    return screen(
        "villager/member.html",
        index=page,
        title=title,
        member_index=index,
        values=values,
        errors=errors,
        choices={g: _choices(g) for g in ("relation", "sex", "school", "work")},
        prompt=spoken(said),
        personal_prompt=True,
    ), status


@bp.get("/household/<int:page>/member")
@in_state(State.HOUSEHOLD)
def member(token: str, reg: RegistrationView, page: int) -> Any:
    """The first member screen: a new member, or member ``i`` to change."""
    found = _view(reg, page)
    if found is None:
        return redirect(url_for("villager.household", page=page))
    page, view = found
    members = _list(reg, view.questions[0].id)
    index = request.args.get("i", type=int)
    draft = svc().registration.member_draft(token)
    if draft is not None and draft.get("index") == index:
        values: Mapping[str, Any] = draft
    elif index is not None and 0 <= index < len(members):
        values = _as_form(members[index])
    else:
        index, values = None, {}
    return _person_view(reg, page, view, values, index, {}, 200)


def _as_form(m: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: m.get(k) for k in PERSON_KEYS}
    out["age"] = "" if m.get("nik") else str(m.get("age", ""))
    out["sex"] = "" if m.get("nik") else m.get("sex")
    out["chronic"] = "yes" if m.get("chronic") else "no"
    out["wg"] = dict(m.get("wg") or {})
    out["pregnant"] = "yes" if m.get("pregnant") else "no"
    out["nik"] = m.get("nik") or ""
    return out


def _index(members: Sequence[Any]) -> int | None:
    raw = request.form.get("i", "")
    return int(raw) if raw.isdigit() and int(raw) < len(members) else None


@bp.post("/household/<int:page>/member")
@in_state(State.HOUSEHOLD)
def member_post(token: str, reg: RegistrationView, page: int) -> Any:
    """Check who the person is; then their health screen (or straight back to the list)."""
    found = _view(reg, page)
    if found is None:
        return redirect(url_for("villager.household", page=page))
    page, view = found
    qid = view.questions[0].id
    members = _list(reg, qid)
    index = _index(members)
    if request.form.get("action") == "back":
        svc().registration.set_member_draft(token, None)
        return _to_list(page)
    typed = {k: request.form.get(k, "").strip() for k in PERSON_KEYS}
    old = members[index] if index is not None else {}
    trial = {**typed, "wg": {d: "none" for d in people.WG_DOMAINS}, "pregnant": "no"}
    got, problems = people.check_member(trial, svc().registration.today(), index)
    problems = people.person_problems(problems)
    if got is not None:
        others = [m for i, m in enumerate(members) if i != index]
        position = index if index is not None else len(others)
        checked = [people.check_member(m, svc().registration.today())[0] for m in others]
        together = [m for m in checked if m is not None]
        together.insert(min(position, len(together)), got)
        problems = [
            p
            for p in people.check_household(together)
            if p.index == position and p.code not in ("no_head",)
        ]
    if problems:
        errors: dict[str, str] = {}
        for p in problems:
            errors.setdefault(p.field or "relation", p.message(_tr))
        return _person_view(reg, page, view, typed, index, errors, 422)
    assert got is not None
    draft = {**typed, "index": index, "wg": dict(old.get("wg") or {})}
    draft["pregnant"] = "yes" if old.get("pregnant") else ("no" if old else "")
    if people.asks_wg(got.age) or people.asks_pregnancy(got.sex, got.age):
        svc().registration.set_member_draft(token, draft)
        return redirect(url_for("villager.member_health", page=page))
    return _commit(token, page, qid, draft, index)


def _commit(
    token: str, page: int, qid: str, draft: Mapping[str, Any], index: int | None
) -> Response | tuple[str, int]:
    got, _problems = people.check_member(draft, svc().registration.today(), index)
    if got is None:  # cannot happen after both screens passed; never lose the entry
        svc().registration.set_member_draft(token, dict(draft))
        return redirect(url_for("villager.member", page=page, i=index))
    svc().registration.save_member(token, qid, index, got.to_dict())
    return _to_list(page)


def _to_list(page: int) -> Response:
    return redirect(url_for("villager.household", page=page))


def _health_view(
    page: int, draft: Mapping[str, Any], errors: Mapping[str, str], status: int
) -> tuple[str, int]:
    got_age = draft.get("age_known")
    name = str(draft.get("name", ""))
    title = _("Daily activities of %(name)s", name=name)
    wg_asked = people.asks_wg(got_age)
    preg_asked = people.asks_pregnancy(draft.get("sex_known"), got_age)
    said = [errors["wg"]] if "wg" in errors else []
    said.append(title)
    if wg_asked:
        said += [_tr(people.WG_DOMAINS[d]) for d in people.WG_DOMAINS]
    if "pregnant" in errors:
        said.append(errors["pregnant"])
    if preg_asked:
        said.append(_("Is she pregnant now?"))
    domains = [(d, _tr(people.WG_DOMAINS[d]), _tr(people.WG_SHORT[d])) for d in people.WG_DOMAINS]
    return screen(
        "villager/member_health.html",
        index=page,
        title=title,
        draft=draft,
        wg=dict(draft.get("wg") or {}),
        domains=domains if wg_asked else [],
        levels=_choices("wg_level"),
        pregnancy=preg_asked,
        errors=errors,
        prompt=spoken(said),
        personal_prompt=True,
    ), status


def _known(draft: dict[str, Any]) -> dict[str, Any]:
    """The draft with the age and sex the core settled (from the NIK or as typed)."""
    trial = {**draft, "wg": {d: "none" for d in people.WG_DOMAINS}, "pregnant": "no"}
    got, _problems = people.check_member(trial, svc().registration.today())
    draft["age_known"] = got.age if got else None
    draft["sex_known"] = got.sex if got else None
    return draft


@bp.get("/household/<int:page>/member/health")
@in_state(State.HOUSEHOLD)
def member_health(token: str, reg: RegistrationView, page: int) -> Any:
    """The second member screen: the Washington Group questions and pregnancy."""
    draft = svc().registration.member_draft(token)
    if draft is None or _view(reg, page) is None:
        return _to_list(page)
    return _health_view(page, _known(draft), {}, 200)


@bp.post("/household/<int:page>/member/health")
@in_state(State.HOUSEHOLD)
def member_health_post(token: str, reg: RegistrationView, page: int) -> Any:
    """Check the answers of the second screen and put the member on the list."""
    draft = svc().registration.member_draft(token)
    found = _view(reg, page)
    if draft is None or found is None:
        return _to_list(page)
    page, view = found
    index = draft.get("index")
    if request.form.get("action") == "back":
        return redirect(url_for("villager.member", page=page, i=index))
    draft["wg"] = {d: request.form.get(f"wg_{d}", "") for d in people.WG_DOMAINS}
    draft["pregnant"] = request.form.get("pregnant", "")
    got, problems = people.check_member(draft, svc().registration.today(), index)
    if got is None:
        errors = {p.field: p.message(_tr) for p in problems if p.field in ("wg", "pregnant")}
        if errors:
            svc().registration.set_member_draft(token, draft)
            return _health_view(page, _known(dict(draft)), errors, 422)
    return _commit(token, page, view.questions[0].id, draft, index)


@bp.post("/household/<int:page>/member/remove")
@in_state(State.HOUSEHOLD)
def member_remove(token: str, reg: RegistrationView, page: int) -> Any:
    """Take one member off the list."""
    found = _view(reg, page)
    if found is not None:
        qid = found[1].questions[0].id
        index = _index(_list(reg, qid))
        if index is not None:
            svc().registration.remove_member(token, qid, index)
    return _to_list(page)


@bp.get("/household/<int:page>/known")
@in_state(State.HOUSEHOLD)
def family_known(token: str, reg: RegistrationView, page: int) -> Any:
    """This family card is already registered here: say so (when, how many people) before the
    person goes on; what they send becomes the next version of that registration."""
    found = svc().registration.known_family(token)
    if found is None:
        return redirect(url_for("villager.household", page=page))
    day = dt.datetime.fromtimestamp(found.created_at).date()
    when = babel_date(day, format="long")
    n = found.members_count
    if found.source == "portal":  # registered at another kiosk: the portal said so
        body = (
            _(
                "This family card was registered at another kiosk on %(date)s, with %(n)s people.",
                date=when,
                n=n,
            )
            if n
            else _("This family card was registered at another kiosk on %(date)s.", date=when)
        )
    elif n:
        body = _(
            "This family card was registered at this kiosk on %(date)s, with %(n)s people.",
            date=when,
            n=n,
        )
    else:
        body = _("This family card was registered at this kiosk on %(date)s.", date=when)
    title = _("This family card is already registered")
    then = _(
        "Your answers will update that registration: it is not registered twice."
        " Please check the family members with care."
    )
    return screen(
        "villager/family_known.html",
        title=title,
        body=body,
        then=then,
        next_page=page,
        prompt=f"{title}. {body} {then}",
    )
