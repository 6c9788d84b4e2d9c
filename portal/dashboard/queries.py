"""The dashboard's read queries over the portal database (read only; no NIK is ever selected).

Everything is derived from what the ingest workers store: ``record`` (kind ``registration``:
village code, verification outcome, assisting agent, face attempts; kind ``audit``: the kiosk's
``spoof_suspected`` entries; kind ``objection``, its state from the status desk's
``objection_state``), ``heartbeat`` and ``availability``; plus the dashboard's ``area`` names
and ``device`` registry (migration 0002, which also adds the generated columns these queries
group by). A registration's day is the kiosk's corrected clock (``created_at``), else its
arrival at the portal, in the dashboard's time zone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from portal.dashboard.areas import DIGITS, LABEL, Area
from portal.dashboard.i18n import _, _l

MAX_DAYS = 366
"""Longest period a page covers."""

_IN_AREA = 'village_code COLLATE "C" >= %(lo)s AND village_code COLLATE "C" < %(hi)s'
_AT = "COALESCE(created_at, received_at)"

# village_code, outcome, assisted, attempts, is_update: generated columns (migration 0002).
# The day is counted with the zone's fixed offset (Indonesia keeps no daylight saving time).
_REGISTRATIONS = f"""
SELECT left(village_code, %(n)s) AS grp,
       floor(({_AT} + %(offset)s) / 86400)::int AS day,
       is_update, outcome, assisted,
       count(*) AS n,
       sum(attempts) AS attempts,
       sum(attempts - CASE WHEN outcome IN ('verified', 'pending') AND attempts > 0
                           THEN 1 ELSE 0 END) AS failed
FROM record
WHERE kind = 'registration' AND village_code IS NOT NULL AND {_IN_AREA}
  AND ((created_at >= %(t0)s AND created_at < %(t1)s)
       OR (created_at IS NULL AND received_at >= %(t0)s AND received_at < %(t1)s))
GROUP BY 1, 2, 3, 4, 5
"""

_DEVICES = """
WITH known AS (SELECT device_id FROM heartbeat UNION SELECT device_id FROM device),
dev AS (
  SELECT k.device_id, COALESCE(d.village_code, last.village) AS village,
         COALESCE(d.name, '') AS name
  FROM known k
  LEFT JOIN device d ON d.device_id = k.device_id
  LEFT JOIN LATERAL (
    SELECT r.village_code AS village FROM record r
    WHERE r.device_id = k.device_id AND r.kind = 'registration'
      AND r.village_code IS NOT NULL
    ORDER BY r.record_id DESC LIMIT 1
  ) last ON d.device_id IS NULL
)
"""
_IN_DEV = 'dev.village COLLATE "C" >= %(lo)s AND dev.village COLLATE "C" < %(hi)s'

_SPOOFS = f"""{_DEVICES}
SELECT left(dev.village, %(n)s), count(*)
FROM record r
JOIN dev ON dev.device_id = r.device_id
CROSS JOIN LATERAL jsonb_array_elements(
  CASE WHEN jsonb_typeof(r.record->'entries') = 'array' THEN r.record->'entries'
       ELSE '[]'::jsonb END) AS e
WHERE r.kind = 'audit' AND {_IN_DEV} AND r.received_at >= %(t0)s
  AND jsonb_typeof(e) = 'array' AND e->>2 = 'spoof_suspected'
  AND jsonb_typeof(e->1) = 'number' AND (e->>1)::float8 >= %(t0)s AND (e->>1)::float8 < %(t1)s
GROUP BY 1
"""

_OBJECTIONS = f"""{_DEVICES}
SELECT left(COALESCE(r.village_code, dev.village), %(n)s) AS grp,
       COALESCE(s.state, 'received') AS state, count(*)
FROM record r
LEFT JOIN dev ON dev.device_id = r.device_id
LEFT JOIN objection_state s ON s.device_id = r.device_id AND s.objection_id = r.record_id
WHERE r.kind = 'objection'
  AND COALESCE(r.created_at, r.received_at) >= %(t0)s
  AND COALESCE(r.created_at, r.received_at) < %(t1)s
  AND COALESCE(r.village_code, dev.village) COLLATE "C" >= %(lo)s
  AND COALESCE(r.village_code, dev.village) COLLATE "C" < %(hi)s
GROUP BY 1, 2
"""

_KIOSKS = f"""{_DEVICES}
SELECT dev.device_id, dev.village, dev.name, h.message, h.received_at, a.state, a.at
FROM dev
LEFT JOIN heartbeat h ON h.device_id = dev.device_id
LEFT JOIN availability a ON a.device_id = dev.device_id
WHERE {_IN_DEV}
ORDER BY dev.village, dev.device_id
"""

OBJECTION_STATES: dict[str, object] = {
    "received": _l("Received by the portal"),
    "under_review": _l("Under review"),
    "upheld": _l("Upheld"),
    "rejected": _l("Rejected"),
}
"""Objection (sanggah) states (the portal status desk's, docs/protocol.md) as the dashboard names
them; others are shown as sent. The state is the desk's (``objection_state``, migration 0003); an
objection the desk has not checked yet counts as ``received``."""


@dataclass(frozen=True)
class Period:
    """Calendar days ``start``..``end`` (inclusive) in time zone ``tz``."""

    start: dt.date
    end: dt.date
    tz: str = "Asia/Jakarta"

    @property
    def days(self) -> list[dt.date]:
        """Every day of the period."""
        return [self.start + dt.timedelta(days=i) for i in range((self.end - self.start).days + 1)]

    def bounds(self) -> tuple[float, float]:
        """[start, end + 1 day) as seconds since the epoch."""
        zone = ZoneInfo(self.tz)
        t0 = dt.datetime.combine(self.start, dt.time(), zone)
        t1 = dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(), zone)
        return t0.timestamp(), t1.timestamp()


class PeriodError(ValueError):
    """A period the dashboard cannot show; the message is for the official (translated)."""


def parse_period(start: str | None, end: str | None, today: dt.date, tz: str) -> Period:
    """The period from ``dari``/``sampai`` (YYYY-MM-DD); the last 30 days by default."""

    def day(text: str, refusal: str) -> dt.date:
        try:
            return dt.date.fromisoformat(text.strip())
        except ValueError:
            raise PeriodError(refusal) from None  # never echoed: it could be a mistyped NIK

    last = (
        day(end, _("The end date is not recognised. Write it like 2026-12-01.")) if end else today
    )
    first = (
        day(start, _("The start date is not recognised. Write it like 2026-12-01."))
        if start
        else last - dt.timedelta(days=29)
    )
    if first > last:
        raise PeriodError(_("The start date must be on or before the end date."))
    if (last - first).days + 1 > MAX_DAYS:
        raise PeriodError(_("The period is at most %(days)s days.", days=MAX_DAYS))
    return Period(first, last, tz)


@dataclass
class Counts:
    """Additive registration and event counts of one area (or one row of a table)."""

    new: int = 0
    updates: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    assisted: int = 0
    attempts: int = 0
    failed: int = 0
    spoofs: int = 0
    objections: dict[str, int] = field(default_factory=dict)

    def add(self, other: Counts) -> None:
        """Add another row's counts into this one."""
        self.new += other.new
        self.updates += other.updates
        self.assisted += other.assisted
        self.attempts += other.attempts
        self.failed += other.failed
        self.spoofs += other.spoofs
        for k, v in other.outcomes.items():
            self.outcomes[k] = self.outcomes.get(k, 0) + v
        for k, v in other.objections.items():
            self.objections[k] = self.objections.get(k, 0) + v

    @property
    def records(self) -> int:
        """Registration records (new and updates): the base of the outcome mix."""
        return self.new + self.updates

    @property
    def objection_total(self) -> int:
        """Objections in every state."""
        return sum(self.objections.values())


@dataclass(frozen=True)
class Kiosk:
    """One kiosk's health from its latest heartbeat and its availability message."""

    device_id: str
    village: str
    name: str
    last_seen: float | None
    online: bool | None
    queue_depth: int | None
    oldest_pending_s: float | None
    dead: int | None
    disk_free_bytes: int | None
    temp_c: float | None
    clock_synced: bool | None
    clock_skew_s: float | None


@dataclass
class Report:
    """Everything one area page shows."""

    area: Area
    period: Period
    totals: Counts
    daily: list[tuple[dt.date, int]]
    children: dict[str, Counts]
    kiosks: list[Kiosk]
    names: dict[str, str]


def area_exists(conn: Any, area: Area) -> bool:
    """True if the area is named, or any registration or kiosk lies in it."""
    p = _range(area)
    row = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM area WHERE code = %(code)s)"
        f" OR EXISTS (SELECT 1 FROM device WHERE {_IN_AREA})"
        " OR EXISTS (SELECT 1 FROM record WHERE kind = 'registration'"
        f" AND village_code IS NOT NULL AND {_IN_AREA})",
        {**p, "code": area.code},
    ).fetchone()
    return bool(row[0])


def names(conn: Any, codes: list[str]) -> dict[str, str]:
    """Area names known for ``codes``."""
    rows = conn.execute("SELECT code, name FROM area WHERE code = ANY(%s)", (codes,))
    return {str(c): str(n) for c, n in rows}


def display_name(area: Area, known: dict[str, str]) -> str:
    """'Kecamatan Kota' if named, else 'Kecamatan 35.10.01'."""
    return f"{LABEL[area.level]} {known.get(area.code) or area.dotted}"


def _range(area: Area) -> dict[str, Any]:
    return {"lo": area.code, "hi": area.upper_bound()}


def report(conn: Any, area: Area, period: Period, now: float) -> Report:
    """The figures of ``area`` over ``period``, broken down one level down."""
    child_digits = DIGITS[area.child_level] if area.child_level else len(area.code)
    t0, t1 = period.bounds()
    offset = ZoneInfo(period.tz).utcoffset(dt.datetime.fromtimestamp(t0))
    params = {
        **_range(area), "n": child_digits, "t0": t0, "t1": t1,
        "offset": int(offset.total_seconds()) if offset else 0,
    }  # fmt: skip
    children: dict[str, Counts] = {}
    per_day: dict[dt.date, int] = {}
    epoch = dt.date(1970, 1, 1)
    for grp, day_no, is_update, outcome, assisted, n, attempts, failed in conn.execute(
        _REGISTRATIONS, params
    ):
        c = children.setdefault(grp, Counts())
        n = int(n)
        day = epoch + dt.timedelta(days=int(day_no))
        if not is_update:
            c.new += n
            per_day[day] = per_day.get(day, 0) + n
        else:
            c.updates += n
        key = outcome if outcome in ("verified", "pending", "vouched") else "other"
        c.outcomes[key] = c.outcomes.get(key, 0) + n
        c.assisted += n if assisted else 0
        c.attempts += int(attempts or 0)
        c.failed += int(failed or 0)
    for grp, n in conn.execute(_SPOOFS, params):
        children.setdefault(grp, Counts()).spoofs += int(n)
    for grp, state, n in conn.execute(_OBJECTIONS, params):
        c = children.setdefault(grp, Counts())
        c.objections[state] = c.objections.get(state, 0) + int(n)
    for (code,) in conn.execute(
        'SELECT code FROM area WHERE length(code) = %(n)s AND code COLLATE "C" >= %(lo)s'
        ' AND code COLLATE "C" < %(hi)s',
        params,
    ):
        children.setdefault(code, Counts())  # a named village with nothing yet shows as 0
    kiosks = kiosks_in(conn, area, now)
    for k in kiosks:
        children.setdefault(k.village[:child_digits], Counts())
    totals = Counts()
    for c in children.values():
        totals.add(c)
    if area.child_level is None:
        children = {}
    codes = [area.code, *(a.code for a in area.ancestors()), *children]
    codes += sorted({k.village for k in kiosks})
    return Report(
        area=area,
        period=period,
        totals=totals,
        daily=[(d, per_day.get(d, 0)) for d in period.days],
        children=dict(sorted(children.items())),
        kiosks=kiosks,
        names=names(conn, codes),
    )


def kiosks_in(conn: Any, area: Area, now: float) -> list[Kiosk]:
    """The kiosks placed in ``area`` with their latest health."""
    out = []
    for device_id, village, name, msg, seen, state, _at in conn.execute(_KIOSKS, _range(area)):
        m: dict[str, Any] = msg if isinstance(msg, dict) else {}
        raw = m.get("clock")
        clock: dict[str, Any] = raw if isinstance(raw, dict) else {}
        wall = _num(clock.get("wall"))
        synced = clock.get("synced")
        out.append(
            Kiosk(
                device_id=str(device_id),
                village=str(village),
                name=str(name or ""),
                last_seen=None if seen is None else float(seen),
                online=None if state is None else state == "online",
                queue_depth=_int(m.get("queue_depth")),
                oldest_pending_s=_num(m.get("oldest_pending_age_s")),
                dead=_int(m.get("dead")),
                disk_free_bytes=_int(m.get("disk_free_bytes")),
                temp_c=_num(m.get("cpu_temp_c")),
                clock_synced=synced if isinstance(synced, bool) else None,
                clock_skew_s=None if wall is None or seen is None else wall - float(seen),
            )
        )
    return out


def _num(x: Any) -> float | None:
    return float(x) if isinstance(x, int | float) and not isinstance(x, bool) else None


def _int(x: Any) -> int | None:
    return x if isinstance(x, int) and not isinstance(x, bool) else None
