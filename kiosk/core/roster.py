"""The Dasa Wisma roster: a cadre's households, their validation, and the conflict rule.

A household is flattened into field paths (``kk``, ``crops``, ``members.<id>.work`` ...) so edits,
merges and the change history all work field by field.

Conflict rule when a portal update arrives for a household with unconfirmed local edits:

1. An update whose version is not newer than the one already applied is ignored (stale).
2. A local edit equal to the portal's value is confirmed (the portal has it).
3. Identity fields (No. KK, cadre, member name/relation/sex/birth year) are the portal's: its
   value wins and the local edit is dropped - unless the portal does not have the field at all
   (a member added on the kiosk that the portal has not seen yet), which stays pending.
4. Any other field: last writer wins, comparing the local edit's time with the update's
   ``updated_at``; a tie goes to the portal. A kept local edit stays pending and is re-sent.

Every decision is a :class:`Change` for the history. Nothing here does I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from kiosk.core.forms.checks import kk_number
from kiosk.core.i18n import N_, Translate, untranslated
from kiosk.errors import FormError

MAX_MEMBERS = 20
"""Members per household."""

MAX_SHOCKS = 10
"""Recent shocks kept per household."""

CODES: dict[str, dict[str, str]] = {
    "relation": {
        "head": N_("Head of household"),
        "spouse": N_("Spouse"),
        "child": N_("Child"),
        "parent": N_("Parent or parent-in-law"),
        "grandchild": N_("Grandchild"),
        "other": N_("Other"),
    },
    "sex": {"F": N_("Female"), "M": N_("Male")},
    "work": {
        "none": N_("Not working"),
        "farmer": N_("Farmer (owner or tenant)"),
        "farm_labourer": N_("Farm labourer"),
        "fisher": N_("Fisher"),
        "labourer": N_("Day labourer"),
        "trader": N_("Trader"),
        "driver": N_("Driver"),
        "employee": N_("Employee"),
        "civil_servant": N_("Civil servant"),
        "housework": N_("Housework"),
        "student": N_("Student"),
        "other": N_("Other"),
    },
    "illness": {
        "hypertension": N_("High blood pressure"),
        "diabetes": N_("Diabetes"),
        "tuberculosis": N_("Tuberculosis"),
        "stroke": N_("Stroke"),
        "heart": N_("Heart disease"),
        "disability": N_("Disability"),
        "mental": N_("Mental illness"),
        "stunting": N_("Stunting"),
        "other": N_("Other chronic illness"),
    },
    "crop": {
        "rice": N_("Rice"),
        "corn": N_("Corn"),
        "cassava": N_("Cassava"),
        "vegetables": N_("Vegetables"),
        "fruit": N_("Fruit"),
        "coconut": N_("Coconut"),
        "coffee": N_("Coffee"),
        "livestock": N_("Livestock"),
        "fish": N_("Fish (pond)"),
    },
    "shock": {
        "earner_death": N_("Death of the main earner"),
        "earner_ill": N_("Main earner fell ill"),
        "job_loss": N_("Job loss"),
        "harvest_failure": N_("Harvest failure"),
        "flood": N_("Flood"),
        "drought": N_("Drought"),
        "fire": N_("Fire"),
        "price_rise": N_("Food prices rose"),
        "other": N_("Other"),
    },
}
"""Code group -> code -> label msgid (translated at the edge). Forms and validation use these."""

HOUSEHOLD_IDENTITY: frozenset[str] = frozenset({"kk", "cadre_id"})
MEMBER_IDENTITY: frozenset[str] = frozenset({"name", "relation", "sex", "birth_year"})
MEMBER_FIELDS: tuple[str, ...] = ("name", "relation", "sex", "birth_year", "work", "illnesses")

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")
_NAME = re.compile(r"^[^\W\d_]+(?:[ .'\-][^\W\d_]*)*$")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def label(group: str, code: str, translate: Translate = untranslated) -> str:
    """The label of ``code`` in ``group``, translated; the code itself if unknown."""
    msgid = CODES.get(group, {}).get(code)
    return code if msgid is None else translate(msgid)


# --- model ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Member:
    """One person in a household."""

    member_id: str
    name: str
    relation: str
    sex: str
    birth_year: int
    work: str = "none"
    illnesses: tuple[str, ...] = ()


@dataclass(frozen=True)
class Shock:
    """Something that recently hit the household, and the month (``YYYY-MM``)."""

    code: str
    month: str


@dataclass(frozen=True)
class Household:
    """One household (one Kartu Keluarga) in a cadre's roster."""

    household_id: str
    kk: str
    cadre_id: str
    address: str = ""
    members: tuple[Member, ...] = ()
    crops: tuple[str, ...] = ()
    shocks: tuple[Shock, ...] = ()


# --- validation -----------------------------------------------------------------------------
def _code(group: str, value: Any, path: str) -> str:
    if not isinstance(value, str) or value not in CODES[group]:
        raise FormError(f"{path}: unknown {group} code {value!r}", path)
    return value


def _codes(group: str, value: Any, path: str) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        raise FormError(f"{path}: expected a list of {group} codes", path)
    out = tuple(_code(group, v, path) for v in value)
    if len(set(out)) != len(out):
        raise FormError(f"{path}: a {group} code is listed twice", path)
    return tuple(sorted(out))


def _id(value: Any, path: str) -> str:
    if not isinstance(value, str) or not _ID.match(value):
        raise FormError(f"{path}: must be an id of 1-40 letters, digits, '-' or '_'", path)
    return value


def check_kk(value: Any) -> str:
    """A No. KK (16 digits, known district, real date, serial); raises FormError otherwise."""
    digits = "".join(ch for ch in value if ch.isdigit()) if isinstance(value, str) else ""
    if len(digits) != 16 or (isinstance(value, str) and re.search(r"[^\d\s.]", value)):
        raise FormError("No. KK must be 16 digits", "kk")
    problem = kk_number(digits)
    if problem is not None:
        raise FormError(f"No. KK is not valid ({problem[0]})", "kk")
    return digits


def _name(value: Any, path: str) -> str:
    text = " ".join(value.split()) if isinstance(value, str) else ""
    if not 1 <= len(text) <= 80 or not _NAME.match(text):
        raise FormError(f"{path}: a name of 1-80 letters (spaces, . ' - allowed)", path)
    return text


def _year(value: Any, path: str) -> int:
    try:
        year = int(value)
    except (TypeError, ValueError) as err:
        raise FormError(f"{path}: birth year must be a number", path) from err
    if isinstance(value, bool) or not 1900 <= year <= 2100:
        raise FormError(f"{path}: birth year must be between 1900 and 2100", path)
    return year


def member_from_dict(data: Mapping[str, Any], path: str = "members") -> Member:
    """Validate one member mapping."""
    mid = _id(data.get("member_id"), f"{path}.member_id")
    p = f"members.{mid}"
    unknown = set(data) - {"member_id", *MEMBER_FIELDS}
    if unknown:
        raise FormError(f"{p}: unknown fields {sorted(unknown)}", p)
    return Member(
        member_id=mid,
        name=_name(data.get("name"), f"{p}.name"),
        relation=_code("relation", data.get("relation"), f"{p}.relation"),
        sex=_code("sex", data.get("sex"), f"{p}.sex"),
        birth_year=_year(data.get("birth_year"), f"{p}.birth_year"),
        work=_code("work", data.get("work", "none"), f"{p}.work"),
        illnesses=_codes("illness", data.get("illnesses", []), f"{p}.illnesses"),
    )


def household_from_dict(data: Mapping[str, Any]) -> Household:
    """Validate a household mapping (as stored, sent or typed) into a :class:`Household`."""
    if not isinstance(data, Mapping):
        raise FormError("a household must be a mapping", "")
    unknown = set(data) - {
        "household_id",
        "kk",
        "cadre_id",
        "address",
        "members",
        "crops",
        "shocks",
    }
    if unknown:
        raise FormError(f"unknown household fields {sorted(unknown)}", "")
    address = data.get("address", "")
    if not isinstance(address, str) or len(address) > 160:
        raise FormError("address: at most 160 characters", "address")
    raw_members = data.get("members", [])
    if not isinstance(raw_members, list | tuple):
        raise FormError("members: expected a list", "members")
    if len(raw_members) > MAX_MEMBERS:
        raise FormError(f"members: at most {MAX_MEMBERS} per household", "members")
    members = tuple(member_from_dict(m) for m in raw_members)
    ids = [m.member_id for m in members]
    if len(set(ids)) != len(ids):
        raise FormError("members: two members share one id", "members")
    raw_shocks = data.get("shocks", [])
    if not isinstance(raw_shocks, list | tuple) or len(raw_shocks) > MAX_SHOCKS:
        raise FormError(f"shocks: a list of at most {MAX_SHOCKS}", "shocks")
    shocks = []
    for s in raw_shocks:
        if not isinstance(s, Mapping) or not _MONTH.match(str(s.get("month", ""))):
            raise FormError("shocks: each needs a code and a month YYYY-MM", "shocks")
        shocks.append(Shock(_code("shock", s.get("code"), "shocks"), str(s["month"])))
    return Household(
        household_id=_id(data.get("household_id"), "household_id"),
        kk=check_kk(data.get("kk")),
        cadre_id=_id(data.get("cadre_id"), "cadre_id"),
        address=" ".join(address.split()),
        members=members,
        crops=_codes("crop", data.get("crops", []), "crops"),
        shocks=tuple(sorted(shocks, key=lambda s: (s.month, s.code), reverse=True)),
    )


def household_to_dict(h: Household) -> dict[str, Any]:
    """JSON-ready mapping of a household (the inverse of :func:`household_from_dict`)."""
    return {
        "household_id": h.household_id,
        "kk": h.kk,
        "cadre_id": h.cadre_id,
        "address": h.address,
        "members": [
            {
                "member_id": m.member_id,
                "name": m.name,
                "relation": m.relation,
                "sex": m.sex,
                "birth_year": m.birth_year,
                "work": m.work,
                "illnesses": list(m.illnesses),
            }
            for m in h.members
        ],
        "crops": list(h.crops),
        "shocks": [{"code": s.code, "month": s.month} for s in h.shocks],
    }


# --- field paths ----------------------------------------------------------------------------
def flatten(h: Household) -> dict[str, Any]:
    """Field path -> JSON value for every field but the household id."""
    d = household_to_dict(h)
    flat: dict[str, Any] = {
        "kk": d["kk"],
        "cadre_id": d["cadre_id"],
        "address": d["address"],
        "crops": d["crops"],
        "shocks": d["shocks"],
    }
    for m in d["members"]:
        for f in MEMBER_FIELDS:
            flat[f"members.{m['member_id']}.{f}"] = m[f]
    return flat


def unflatten(household_id: str, flat: Mapping[str, Any], order: tuple[str, ...] = ()) -> Household:
    """Rebuild a household from field paths; members keep ``order`` first, new ones after."""
    members: dict[str, dict[str, Any]] = {}
    for path, value in flat.items():
        if path.startswith("members."):
            _, mid, f = path.split(".", 2)
            members.setdefault(mid, {"member_id": mid})[f] = value
    ordered = list(dict.fromkeys(m for m in order if m in members))
    ids = ordered + sorted(m for m in members if m not in ordered)
    return household_from_dict(
        {
            "household_id": household_id,
            "kk": flat.get("kk"),
            "cadre_id": flat.get("cadre_id"),
            "address": flat.get("address", ""),
            "crops": flat.get("crops", []),
            "shocks": flat.get("shocks", []),
            "members": [members[m] for m in ids],
        }
    )


def is_identity(path: str) -> bool:
    """True for fields the portal is authoritative for."""
    if path.startswith("members."):
        return path.rsplit(".", 1)[1] in MEMBER_IDENTITY
    return path in HOUSEHOLD_IDENTITY


# --- edits, merges, history -----------------------------------------------------------------
class Action(StrEnum):
    """What happened to one field, for the change history."""

    EDITED = "edited"  # a cadre changed it on the kiosk
    PORTAL_APPLIED = "portal_applied"  # the portal's value replaced ours (no local edit)
    CONFIRMED = "confirmed"  # the portal now has our local edit
    CONFLICT_PORTAL_IDENTITY = "conflict_portal_identity"  # identity field: portal wins
    CONFLICT_PORTAL_NEWER = "conflict_portal_newer"  # portal's change is newer: it wins
    CONFLICT_LOCAL_NEWER = "conflict_local_newer"  # our edit is newer: kept, re-sent
    KEPT_LOCAL = "kept_local"  # a local addition the portal has not seen yet
    STALE_IGNORED = "stale_ignored"  # an update no newer than what we have
    ADDED = "added"  # a household arrived from the portal or was created here
    REMOVED = "removed"  # the portal took the household off this cadre's roster


CONFLICTS: frozenset[Action] = frozenset(
    {Action.CONFLICT_PORTAL_IDENTITY, Action.CONFLICT_PORTAL_NEWER, Action.CONFLICT_LOCAL_NEWER}
)


@dataclass(frozen=True)
class LocalEdit:
    """A field a cadre changed on the kiosk that the portal has not confirmed yet."""

    path: str
    value: Any  # JSON value; None means the field (a member) was removed
    edited_at: float  # wall seconds
    agent_id: str


@dataclass(frozen=True)
class Change:
    """One history entry: which field, from where, what happened, old and new values."""

    household_id: str
    path: str
    source: str  # local | portal
    action: Action
    at: float  # wall seconds
    old: Any = None
    new: Any = None
    agent_id: str | None = None
    version: int | None = None


@dataclass(frozen=True)
class PortalUpdate:
    """A household as the portal has it: its version and when the portal last changed it."""

    household_id: str
    version: int
    updated_at: float  # portal wall seconds
    household: Household | None  # None: removed from this kiosk's rosters


@dataclass(frozen=True)
class EditResult:
    """A household after local edits, its pending edits, and the history entries."""

    household: Household
    pending: dict[str, LocalEdit]
    changes: list[Change] = field(default_factory=list)


@dataclass(frozen=True)
class MergeResult:
    """A household after a portal update (None: removed), pending edits left, and history."""

    household: Household | None
    pending: dict[str, LocalEdit]
    version: int
    changes: list[Change] = field(default_factory=list)
    stale: bool = False


def edit(
    current: Household | None,
    new: Household,
    pending: Mapping[str, LocalEdit],
    at: float,
    agent_id: str,
) -> EditResult:
    """Record the cadre's changes from ``current`` (None: a new household) to ``new``."""
    if current is not None:
        if new.household_id != current.household_id:
            raise FormError("the household id cannot change", "household_id")
        if new.cadre_id != current.cadre_id:
            raise FormError("only the portal can move a household to another cadre", "cadre_id")
    before = flatten(current) if current is not None else {}
    after = flatten(new)
    out = dict(pending)
    changes = []
    for path in sorted(set(before) | set(after)):
        old, value = before.get(path), after.get(path)
        if old == value:
            continue
        out[path] = LocalEdit(path, value, at, agent_id)
        changes.append(
            Change(new.household_id, path, "local", Action.EDITED, at, old, value, agent_id)
        )
    if current is None:
        changes.insert(
            0, Change(new.household_id, "*", "local", Action.ADDED, at, agent_id=agent_id)
        )
    return EditResult(new, out, changes)


def merge(
    local: Household | None,
    local_version: int,
    pending: Mapping[str, LocalEdit],
    update: PortalUpdate,
    at: float,
) -> MergeResult:
    """Apply a portal update to the local household under the conflict rule (module doc)."""
    hid, v = update.household_id, update.version
    if local is not None and v <= local_version:
        change = Change(hid, "*", "portal", Action.STALE_IGNORED, at, version=v)
        return MergeResult(local, dict(pending), local_version, [change], stale=True)
    if update.household is None:
        return MergeResult(None, {}, v, [Change(hid, "*", "portal", Action.REMOVED, at, version=v)])
    if update.household.household_id != hid:
        raise FormError("the update's household id does not match its body", "household_id")
    portal = flatten(update.household)
    mine = flatten(local) if local is not None else {}
    left: dict[str, LocalEdit] = {}
    result: dict[str, Any] = {}
    changes: list[Change] = []
    if local is None:
        changes.append(Change(hid, "*", "portal", Action.ADDED, at, version=v))

    def note(path: str, source: str, action: Action, old: Any, new: Any, who: str | None) -> None:
        changes.append(Change(hid, path, source, action, at, old, new, who, v))

    for path in sorted(set(mine) | set(portal) | set(pending)):
        lv, pv, e = mine.get(path), portal.get(path), pending.get(path)
        if e is None:
            chosen = pv
            if local is not None and lv != pv:
                note(path, "portal", Action.PORTAL_APPLIED, lv, pv, None)
        elif e.value == pv:
            chosen = pv
            note(path, "portal", Action.CONFIRMED, None, pv, e.agent_id)
        elif is_identity(path) and pv is None:
            chosen, left[path] = e.value, e
            note(path, "local", Action.KEPT_LOCAL, None, e.value, e.agent_id)
        elif is_identity(path):
            chosen = pv
            note(path, "portal", Action.CONFLICT_PORTAL_IDENTITY, e.value, pv, e.agent_id)
        elif e.edited_at > update.updated_at:
            chosen, left[path] = e.value, e
            note(path, "local", Action.CONFLICT_LOCAL_NEWER, pv, e.value, e.agent_id)
        else:
            chosen = pv
            note(path, "portal", Action.CONFLICT_PORTAL_NEWER, e.value, pv, e.agent_id)
        if chosen is not None:
            result[path] = chosen
    _drop_incomplete_members(result, left)
    order = tuple(m.member_id for m in update.household.members) + (
        tuple(m.member_id for m in local.members) if local is not None else ()
    )
    return MergeResult(unflatten(hid, result, order), left, v, changes)


def _drop_incomplete_members(flat: dict[str, Any], pending: dict[str, LocalEdit]) -> None:
    """Remove members left without identity fields (the portal removed them meanwhile)."""
    mids = {p.split(".")[1] for p in flat if p.startswith("members.")}
    for mid in mids:
        if any(f"members.{mid}.{f}" not in flat for f in MEMBER_IDENTITY):
            for f in MEMBER_FIELDS:
                flat.pop(f"members.{mid}.{f}", None)
                pending.pop(f"members.{mid}.{f}", None)


def pending_to_json(pending: Mapping[str, LocalEdit]) -> list[dict[str, Any]]:
    """Pending edits as JSON-ready dicts (for the store and the outbox record)."""
    return [
        {"path": e.path, "value": e.value, "edited_at": e.edited_at, "agent_id": e.agent_id}
        for e in sorted(pending.values(), key=lambda e: e.path)
    ]


def pending_from_json(items: list[dict[str, Any]]) -> dict[str, LocalEdit]:
    """Inverse of :func:`pending_to_json`."""
    return {
        str(i["path"]): LocalEdit(
            str(i["path"]), i["value"], float(i["edited_at"]), str(i["agent_id"])
        )
        for i in items
    }
