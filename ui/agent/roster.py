"""The Dasa Wisma roster screens: list, add/edit a household, its change history."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping
from typing import Any

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from kiosk.agents.service import AgentSession
from kiosk.core import roster as rules
from kiosk.core import upkeep as upkeep_rules
from kiosk.errors import AgentAuthError, FormError, InputError
from ui.agent import bp
from ui.agent.common import agents, logged_in

NEW_SLOTS = 1
"""Blank member and shock rows offered on the edit form."""

ACTION_TEXT: dict[rules.Action, Any] = {
    rules.Action.EDITED: _l("changed here"),
    rules.Action.PORTAL_APPLIED: _l("updated by the portal"),
    rules.Action.CONFIRMED: _l("confirmed by the portal"),
    rules.Action.CONFLICT_PORTAL_IDENTITY: _l("conflict: identity data follows the portal"),
    rules.Action.CONFLICT_PORTAL_NEWER: _l("conflict: the portal's change was newer"),
    rules.Action.CONFLICT_LOCAL_NEWER: _l("conflict: the change here was newer and is sent again"),
    rules.Action.KEPT_LOCAL: _l("kept here, not yet known to the portal"),
    rules.Action.STALE_IGNORED: _l("old update from the portal ignored"),
    rules.Action.ADDED: _l("household added"),
    rules.Action.REMOVED: _l("household removed by the portal"),
}
"""History action -> words for the cadre."""

FIELD_TEXT: dict[str, Any] = {
    "*": _l("household"),
    "kk": _l("No. KK"),
    "cadre_id": _l("cadre"),
    "address": _l("Address"),
    "crops": _l("Crops"),
    "shocks": _l("Recent shocks"),
    "name": _l("Name"),
    "relation": _l("Relation"),
    "sex": _l("Sex"),
    "birth_year": _l("Year of birth"),
    "work": _l("Work"),
    "illnesses": _l("Illnesses"),
}
"""Field (or member field) -> words."""

KIND_TEXT: dict[str, Any] = {
    "illness": _l("Illness"),
    "crops": _l("Crops"),
    "work": _l("Work"),
    "shocks": _l("Recent shocks"),
    "people": _l("People"),
    "other": _l("Other"),
}
"""Kind of change (kiosk.core.upkeep.KIND_ORDER) -> words for the cadre."""
GROUP_OF_KIND = {"illness": "illness", "crops": "crop", "work": "work", "shocks": "shock"}


def field_text(path: str) -> str:
    """Words for a field path, e.g. ``members.m1.work`` -> "Member m1: Work"."""
    if path.startswith("members."):
        mid, f = path.split(".", 2)[1:]
        return _("Member %(id)s: %(field)s", id=mid, field=str(FIELD_TEXT.get(f, f)))
    return str(FIELD_TEXT.get(path, path))


def form_to_household(form: Mapping[str, str], household_id: str | None) -> dict[str, Any]:
    """The posted edit form as a household mapping for :func:`rules.household_from_dict`."""
    members = []
    for i in range(rules.MAX_MEMBERS + NEW_SLOTS):
        p = f"m{i}-"
        name = form.get(p + "name", "").strip()
        if not name or form.get(p + "remove") == "1":
            continue
        members.append(
            {
                "member_id": form.get(p + "id") or f"m{secrets.token_hex(4)}",
                "name": name,
                "relation": form.get(p + "relation", ""),
                "sex": form.get(p + "sex", ""),
                "birth_year": form.get(p + "birth_year", ""),
                "work": form.get(p + "work", "none") or "none",
                "illnesses": [c for c in rules.CODES["illness"] if form.get(f"{p}ill-{c}") == "1"],
            }
        )
    shocks = []
    for i in range(rules.MAX_SHOCKS + NEW_SLOTS):
        code = form.get(f"s{i}-code", "")
        if code:
            shocks.append({"code": code, "month": form.get(f"s{i}-month", "")})
    out: dict[str, Any] = {
        "kk": form.get("kk", ""),
        "address": form.get("address", ""),
        "crops": [c for c in rules.CODES["crop"] if form.get(f"crop-{c}") == "1"],
        "shocks": shocks,
        "members": members,
    }
    if household_id:
        out["household_id"] = household_id
    return out


def _choices(group: str) -> list[tuple[str, str]]:
    return [(code, rules.label(group, code, _)) for code in rules.CODES[group]]


def _edit_page(
    data: Mapping[str, Any], household_id: str | None, error: str | None, status: int
) -> Any:
    members = list(data.get("members", []))
    members += [{"member_id": "", "illnesses": []}] * NEW_SLOTS
    shocks = list(data.get("shocks", [])) + [{"code": "", "month": ""}] * NEW_SLOTS
    return (
        render_template(
            "agent/household.html",
            data=data,
            members=members,
            shocks=shocks,
            household_id=household_id,
            error=error,
            choices={g: _choices(g) for g in rules.CODES},
        ),
        status,
    )


def _head_name(h: rules.Household) -> str:
    heads = [m.name for m in h.members if m.relation == "head"] or [m.name for m in h.members]
    return heads[0] if heads else ""


@bp.get("/roster")
@logged_in
def roster(current: AgentSession) -> Any:
    """The cadre's households."""
    try:
        rows = agents().my_roster(current.token)
    except AgentAuthError:
        return redirect(url_for("agent.home"))
    items = [
        {
            "id": s.household.household_id,
            "head": _head_name(s.household),
            "kk_tail": s.household.kk[-4:],
            "members": len(s.household.members),
            "pending": bool(s.pending),
        }
        for s in rows
    ]
    return render_template("agent/roster.html", items=items, limit=agents().roster_policy.cap)


@bp.get("/roster/new")
@logged_in
def roster_new(current: AgentSession) -> Any:
    """A blank household form."""
    return _edit_page({"members": [], "shocks": []}, None, None, 200)


@bp.get("/roster/<household_id>")
@logged_in
def roster_edit(current: AgentSession, household_id: str) -> Any:
    """Edit one household."""
    try:
        stored = agents().household(current.token, household_id)
    except (AgentAuthError, InputError):
        return redirect(url_for("agent.roster"))
    return _edit_page(rules.household_to_dict(stored.household), household_id, None, 200)


@bp.post("/roster/save")
@logged_in
def roster_save(current: AgentSession) -> Any:
    """Validate and store the edit; it goes to the portal through the outbox."""
    household_id = request.form.get("household_id") or None
    data = form_to_household(request.form, household_id)
    try:
        agents().save_household(current.token, data)
    except FormError as err:
        where = err.field or ""
        if where == "roster_cap":
            cap = agents().roster_policy.cap
            return _edit_page(
                data, household_id, _("A roster holds at most %(n)s households.", n=cap), 422
            )
        return _edit_page(
            data, household_id, _("Please check this field: %(f)s", f=where or "-"), 422
        )
    except (AgentAuthError, InputError):
        return redirect(url_for("agent.roster"))
    return redirect(url_for("agent.roster"))


@bp.get("/roster/<household_id>/history")
@logged_in
def roster_history(current: AgentSession, household_id: str) -> Any:
    """Who changed what, when, and how conflicts with the portal were settled."""
    try:
        changes = agents().roster_history(current.token, household_id)
    except (AgentAuthError, InputError):
        return redirect(url_for("agent.roster"))
    rows = [
        (
            dt.datetime.fromtimestamp(c.at).strftime("%Y-%m-%d %H:%M"),
            field_text(c.path),
            str(ACTION_TEXT[c.action]),
            c.agent_id,
        )
        for c in reversed(changes)
    ]
    return render_template("agent/history.html", rows=rows, household_id=household_id)


def change_words(item: upkeep_rules.ChangeItem) -> str:
    """One item of the last change in words: "Budi: + TBC", "+ Jagung", "Petani -> Buruh"."""
    group = GROUP_OF_KIND.get(item.kind)
    who = f"{item.member}: " if item.member else ""
    if item.kind == "people":
        if item.added or item.removed:
            return " ".join([*(f"+ {n}" for n in item.added), *(f"- {n}" for n in item.removed)])
        return who + _("details changed")
    if group is None:
        return _("changed")
    if item.kind == "work":
        old = rules.label(group, str(item.old), _) if item.old else "-"
        return f"{who}{old} \u2192 {rules.label(group, str(item.new), _)}"
    parts = [f"+ {rules.label(group, c, _)}" for c in item.added]
    parts += [f"- {rules.label(group, c, _)}" for c in item.removed]
    return who + (", ".join(parts) or _("changed"))


def _day(at: float) -> str:
    return dt.datetime.fromtimestamp(at).strftime("%d-%m-%Y")


@bp.get("/roster/upkeep")
@logged_in
def roster_upkeep(current: AgentSession) -> Any:
    """Which households need a visit (not updated for N days), what changed last, which are
    not registered yet."""
    try:
        rows = agents().upkeep(current.token)
    except AgentAuthError:
        return redirect(url_for("agent.home"))
    days = agents().roster_policy.due_after_days
    items = [
        {
            "id": r.household.household_id,
            "head": _head_name(r.household),
            "kk_tail": r.household.kk[-4:],
            "due": r.due,
            "days": r.days_since,
            "registered": r.registered,
            "last_at": _day(r.last_change.at) if r.last_change else None,
            "changes": [(str(KIND_TEXT[i.kind]), change_words(i)) for i in r.last_change.items]
            if r.last_change
            else [],
        }
        for r in rows
    ]
    due = sum(1 for i in items if i["due"])
    unregistered = sum(1 for i in items if not i["registered"])
    prompt = _(
        "%(due)s households need a visit: not updated for %(days)s days or more."
        " %(unreg)s are not registered yet.",
        due=due,
        days=days,
        unreg=unregistered,
    )
    return render_template(
        "agent/upkeep.html",
        items=items,
        days=days,
        due=due,
        unregistered=unregistered,
        prompt=prompt,
    )
