"""Counts for the village meeting report: what each record adds (the SQL is kiosk.store.tally).

Each writer adds its counts in the transaction that commits its record (through
``OutboxRepository.enqueue``), so a count exists exactly when its record does, and the counts
stay after the acknowledged record itself is purged. A count is (day, dusun, metric): never a
name, a NIK or a record id.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

NEEDS: tuple[str, ...] = ("pkh", "bpnt", "pbi_jk", "pip", "blt_dd")
"""Need categories: the programmes a household asks for (household_v1 programmes_requested)."""

VERIFICATIONS: tuple[str, ...] = ("verified", "pending", "vouched", "unverified")
"""How a registration's identity was settled at the kiosk."""

MAX_DUSUN = 40
"""Longest dusun name counted (longer ones are cut)."""


@dataclass(frozen=True)
class Count:
    """One count to add: ``metric`` in ``dusun`` ('' when not known)."""

    metric: str
    dusun: str = ""


def day_of(wall_s: float) -> str:
    """The kiosk date (UTC, like the kiosk's own calendar) of wall seconds ``wall_s``."""
    return dt.datetime.fromtimestamp(wall_s, tz=dt.UTC).date().isoformat()


def record_count(kind: str) -> Count:
    """The count every outbox record adds: one more record of ``kind``."""
    return Count(f"record:{kind}")


def registration_counts(answers: Mapping[str, Any], verification: str, version: int) -> list[Count]:
    """What a registration adds: one registration (or update) in its dusun, its verification,
    and one per programme it asks for."""
    raw = answers.get("dusun")
    dusun = raw.strip() if isinstance(raw, str) else ""
    if version > 1:
        return [Count("registration_update", dusun)]
    out = [Count("registration", dusun)]
    if verification in VERIFICATIONS:
        out.append(Count(f"verification:{verification}", dusun))
    asked = answers.get("programmes_requested")
    for code in asked if isinstance(asked, list) else []:
        if code in NEEDS:
            out.append(Count(f"need:{code}", dusun))
    return out


@dataclass(frozen=True)
class Totals:
    """The counts of a date range: metric -> dusun -> count."""

    first: dt.date
    last: dt.date
    by_metric: dict[str, dict[str, int]]

    def total(self, metric: str) -> int:
        """The count of ``metric`` over every dusun."""
        return sum(self.by_metric.get(metric, {}).values())

    def dusun_names(self) -> list[str]:
        """Every dusun with a registration in the range, '' (not known) last."""
        names = set(self.by_metric.get("registration", {}))
        names |= set(self.by_metric.get("registration_update", {}))
        return sorted(names, key=lambda d: (d == "", d.casefold()))

    def get(self, metric: str, dusun: str) -> int:
        """The count of ``metric`` in ``dusun``."""
        return self.by_metric.get(metric, {}).get(dusun, 0)
