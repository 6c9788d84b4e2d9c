"""Turn a :class:`~portal.dashboard.queries.Report` into what the page shows: shares, rows, bars.

Small cells: an area's breakdown (outcome mix, agent-assisted share, face failures, spoof
attempts) is shown only when it has at least ``MIN_CELL`` registration records; below that a
village official could tell which neighbour needed an agent's vouch. Registration counts per
day are volumes, not attributes of a person, and are always shown.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from markupsafe import Markup

from portal.dashboard import charts
from portal.dashboard.areas import LABEL, Area
from portal.dashboard.health import clock_trusted, duration, problems, size
from portal.dashboard.i18n import _, _l, decimal, integer
from portal.dashboard.queries import OBJECTION_STATES, Counts, Kiosk, Report, display_name

MIN_CELL = 5
"""Fewest registration records for which an area's breakdown is shown."""
HIDDEN = _l("<%(n)s records", n=MIN_CELL)
"""What a suppressed cell says."""

OUTCOMES: list[tuple[str, object, str]] = [
    ("verified", _l("Verified"), "seg-verified"),
    ("pending", _l("Awaiting verification"), "seg-pending"),
    ("vouched", _l("Vouched by an agent"), "seg-vouched"),
    ("other", _l("Other"), "seg-other"),
]
"""Outcome key, label (translated when shown), chart CSS class."""


def pct(part: int, whole: int) -> str:
    """'12,5 %' (the language's decimal mark); '-' when there is nothing to divide."""
    if whole <= 0:
        return "-"
    return f"{decimal(100 * part / whole, 1)} %"


def number(n: int) -> str:
    """'12.345' (the language's thousands separator)."""
    return integer(n)


@dataclass(frozen=True)
class Figures:
    """The shown figures of one area (or table row); None where the cell is suppressed."""

    new: str
    updates: str
    outcomes: list[tuple[str, str, str]] | None  # label, count, share
    assisted: str | None
    face_failed: str | None
    spoofs: str | None
    objections: str


def figures(c: Counts) -> Figures:
    """Shares and counts of ``c``, with the breakdown suppressed under ``MIN_CELL`` records."""
    shown = c.records >= MIN_CELL
    outcomes = [
        (str(label), number(c.outcomes.get(key, 0)), pct(c.outcomes.get(key, 0), c.records))
        for key, label, _css in OUTCOMES
        if key != "other" or c.outcomes.get("other")
    ]
    return Figures(
        new=number(c.new),
        updates=number(c.updates),
        outcomes=outcomes if shown else None,
        assisted=pct(c.assisted, c.records) if shown else None,
        face_failed=pct(c.failed, c.attempts) if shown else None,
        spoofs=(f"{number(c.spoofs)} ({pct(c.spoofs, c.records)})") if shown else None,
        objections=number(c.objection_total),
    )


def outcome_bar(c: Counts) -> Markup:
    """The outcome mix as one stacked bar (grey and labelled as hidden when suppressed)."""
    if c.records < MIN_CELL:
        empty = (
            _("no data yet")
            if c.records == 0
            else _("hidden (fewer than %(n)s records)", n=MIN_CELL)
        )
        return charts.stacked_bar([], _("Verification outcomes"), empty=empty)
    segs = [charts.Segment(str(label), c.outcomes.get(key, 0), css) for key, label, css in OUTCOMES]
    return charts.stacked_bar(segs, _("Verification outcomes"))


def objection_rows(c: Counts) -> list[tuple[str, str]]:
    """(state label, count) for every known state and any other state sent."""
    rows = [
        (str(label), number(c.objections.get(key, 0))) for key, label in OBJECTION_STATES.items()
    ]
    rows += [(k, number(v)) for k, v in sorted(c.objections.items()) if k not in OBJECTION_STATES]
    return rows


@dataclass(frozen=True)
class ChildRow:
    """One kecamatan or village in the table of the area above it."""

    code: str
    name: str
    figures: Figures
    kiosks: int
    kiosks_with_problems: int


def child_rows(r: Report, now: float) -> list[ChildRow]:
    """The table of the areas one level down."""
    out = []
    for code, counts in r.children.items():
        area = Area(code)
        mine = [k for k in r.kiosks if k.village.startswith(code)]
        out.append(
            ChildRow(
                code=code,
                name=display_name(area, r.names),
                figures=figures(counts),
                kiosks=len(mine),
                kiosks_with_problems=sum(1 for k in mine if problems(k, now)),
            )
        )
    return out


@dataclass(frozen=True)
class KioskRow:
    """One kiosk's health as shown."""

    device_id: str
    name: str
    village: str
    last_seen: str
    backlog: str
    disk: str
    temp: str
    clock: str
    problems: list[str]


def _local(ts: float, tz: dt.tzinfo) -> str:
    return dt.datetime.fromtimestamp(ts, tz).strftime("%d/%m/%Y %H:%M")


def kiosk_rows(
    kiosks: list[Kiosk], now: float, tz: dt.tzinfo, known: dict[str, str], limit: int = 500
) -> list[KioskRow]:
    """Kiosks with problems first, then by village and id; at most ``limit``."""
    ranked = sorted(kiosks, key=lambda k: (not problems(k, now), k.village, k.device_id))
    out = []
    for k in ranked[:limit]:
        trusted = clock_trusted(k)
        backlog = "-"
        if k.queue_depth is not None:
            backlog = _("%(count)s records", count=number(k.queue_depth))
        if k.queue_depth and k.oldest_pending_s is not None:
            backlog = _(
                "%(count)s records, oldest %(age)s",
                count=number(k.queue_depth),
                age=duration(k.oldest_pending_s),
            )
        out.append(
            KioskRow(
                device_id=k.device_id,
                name=k.name,
                village=known.get(k.village) or Area(k.village).dotted,
                last_seen=_("never") if k.last_seen is None else _(
                    "%(time)s (%(ago)s ago)",
                    time=_local(k.last_seen, tz), ago=duration(now - k.last_seen),
                ),
                backlog=backlog,
                disk="-" if k.disk_free_bytes is None else _(
                    "%(size)s free", size=size(k.disk_free_bytes)
                ),
                temp="-" if k.temp_c is None else f"{k.temp_c:.0f} °C",
                clock={True: _("Trusted"), False: _("Not trusted"), None: "-"}[trusted],
                problems=[p.text for p in problems(k, now)],
            )
        )  # fmt: skip
    return out


def breadcrumbs(area: Area, scope: Area, known: dict[str, str]) -> list[tuple[str, str]]:
    """(code, name) of the areas above ``area`` that the official may open."""
    return [(a.code, display_name(a, known)) for a in area.ancestors() if scope.contains(a)]


def level_label(area: Area) -> str:
    """'Kecamatan', 'Desa/Kelurahan' (translated) for the rows under ``area``."""
    return str(LABEL[area.child_level]) if area.child_level else ""
