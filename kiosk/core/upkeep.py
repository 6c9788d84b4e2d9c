"""Dasa Wisma upkeep: which of a cadre's households are due a visit, and what changed last.

A household is *updated* when its roster entry changes (a cadre's edit or the portal's) or when
its family registers or updates a registration on this kiosk; it is *due* once
``due_after_days`` have passed since. The last change is read from the roster history: the
entries written by the newest save, grouped by what the cadre looks after (illness, crops, work,
recent shocks, the people themselves). A roster household whose No. KK has no registration on
this kiosk is listed as *not registered*. Nothing here does I/O; ``now`` is injected.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kiosk.core.roster import Action, Change, Household

DAY_S = 86400.0
DEFAULT_CAP = 10
"""Households one cadre holds by default (a Dasa Wisma group is ten households)."""
MAX_CAP = 30
"""The highest cap the setting allows."""
CONTENT_ACTIONS = frozenset(
    {
        Action.EDITED,
        Action.PORTAL_APPLIED,
        Action.CONFLICT_PORTAL_IDENTITY,
        Action.CONFLICT_PORTAL_NEWER,
        Action.CONFLICT_LOCAL_NEWER,
    }
)
"""History entries that changed a value (confirmations and stale updates change nothing)."""
KIND_ORDER = ("illness", "crops", "work", "shocks", "people", "other")
"""What a change is about, in the order the cadre reads it."""


@dataclass(frozen=True)
class ChangeItem:
    """One field of the last change: its kind, whose (member name), codes added and removed."""

    kind: str
    member: str | None
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    old: Any = None
    new: Any = None


@dataclass(frozen=True)
class LastChange:
    """The newest save of a household: when, by whom (None: the portal), and its items."""

    at: float
    agent_id: str | None
    items: tuple[ChangeItem, ...]

    @property
    def kinds(self) -> tuple[str, ...]:
        """The kinds of change, in :data:`KIND_ORDER`, each once."""
        present = {i.kind for i in self.items}
        return tuple(k for k in KIND_ORDER if k in present)


@dataclass(frozen=True)
class UpkeepRow:
    """One household on the upkeep list."""

    household: Household
    updated_at: float
    days_since: int
    due: bool
    registered_at: float | None
    last_change: LastChange | None

    @property
    def registered(self) -> bool:
        """True when the family has a registration on this kiosk."""
        return self.registered_at is not None


def _kind(path: str) -> str:
    if path.startswith("members."):
        f = path.rsplit(".", 1)[1]
        return {"illnesses": "illness", "work": "work"}.get(f, "people")
    return {"crops": "crops", "shocks": "shocks"}.get(path, "other")


def _codes(value: Any) -> set[str]:
    if isinstance(value, list | tuple):
        return {v.get("code", "") if isinstance(v, Mapping) else str(v) for v in value}
    return set()


def _item(ch: Change, names: Mapping[str, str]) -> ChangeItem:
    kind = _kind(ch.path)
    member = None
    if ch.path.startswith("members."):
        mid = ch.path.split(".")[1]
        member = names.get(mid, mid)
    if ch.path.endswith(".name") and not (ch.old and ch.new):  # the member came or went
        return ChangeItem(
            "people", member, (str(ch.new),) if ch.new else (), (str(ch.old),) if ch.old else ()
        )
    added = tuple(sorted(_codes(ch.new) - _codes(ch.old)))
    removed = tuple(sorted(_codes(ch.old) - _codes(ch.new)))
    return ChangeItem(kind, member, added, removed, ch.old, ch.new)


def member_names(household: Household, history: Sequence[Change]) -> dict[str, str]:
    """Member id -> name, including members removed since (their name from the history)."""
    names = {
        ch.path.split(".")[1]: str(ch.old or ch.new)
        for ch in history
        if ch.path.startswith("members.") and ch.path.endswith(".name") and (ch.old or ch.new)
    }
    names.update({m.member_id: m.name for m in household.members})
    return names


def last_change(household: Household, history: Sequence[Change]) -> LastChange | None:
    """The newest save that changed a value, or None when none did (only added / confirmed)."""
    created = {ch.at for ch in history if ch.action is Action.ADDED}
    content = [
        ch
        for ch in history
        if ch.action in CONTENT_ACTIONS and ch.path != "*" and ch.at not in created
    ]
    if not content:
        return None
    at = max(ch.at for ch in content)
    newest = [ch for ch in content if ch.at == at]
    names = member_names(household, history)
    whole = {  # a member added or removed: one "people" item, not one per field
        ch.path.split(".")[1]: ch
        for ch in newest
        if ch.path.startswith("members.") and ch.path.endswith(".name") and not (ch.old and ch.new)
    }
    items = sorted(
        (
            _item(ch, names)
            for ch in newest
            if not (ch.path.startswith("members.") and ch.path.split(".")[1] in whole)
            or ch.path.endswith(".name")
        ),
        key=lambda i: (KIND_ORDER.index(i.kind), i.member or ""),
    )
    agent = next((ch.agent_id for ch in newest if ch.agent_id), None)
    return LastChange(at, agent, tuple(items))


def last_updated(history: Sequence[Change], stored_at: float, registered_at: float | None) -> float:
    """When the household was last brought up to date (roster change or registration)."""
    content = [ch.at for ch in history if ch.action in CONTENT_ACTIONS or ch.action is Action.ADDED]
    times = [max(content) if content else stored_at]
    if registered_at is not None:
        times.append(registered_at)
    return max(times)


def upkeep_list(
    households: Sequence[tuple[Household, float]],
    history: Callable[[str], Sequence[Change]],
    registered_at: Callable[[str], float | None],
    now: float,
    due_after_days: int,
) -> list[UpkeepRow]:
    """The cadre's households, due ones first (longest waiting first), then the others.

    ``households``: (household, stored time); ``history(household_id)`` its roster history;
    ``registered_at(kk)`` the newest registration of that No. KK on this kiosk, or None.
    """
    rows = []
    for household, stored_at in households:
        changes = history(household.household_id)
        reg = registered_at(household.kk)
        updated = last_updated(changes, stored_at, reg)
        days = max(0, int((now - updated) // DAY_S))
        rows.append(
            UpkeepRow(
                household=household,
                updated_at=updated,
                days_since=days,
                due=days >= due_after_days,
                registered_at=reg,
                last_change=last_change(household, changes),
            )
        )
    return sorted(rows, key=lambda r: (not r.due, r.updated_at))


@dataclass(frozen=True)
class RosterPolicy:
    """The roster settings (``[agents] roster_cap``, ``upkeep_after_days``)."""

    cap: int = DEFAULT_CAP
    due_after_days: int = 30

    def __post_init__(self) -> None:
        if not 1 <= self.cap <= MAX_CAP:
            raise ValueError(f"the roster cap must be 1 to {MAX_CAP} households")
        if self.due_after_days < 1:
            raise ValueError("upkeep_after_days must be at least 1 day")

    def full(self, count: int) -> bool:
        """True when a cadre holding ``count`` households may not add another."""
        return count >= self.cap
