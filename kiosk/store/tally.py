"""The ``tally`` table: add counts inside a writer's transaction; sum a date range."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable

from kiosk.core.tally import MAX_DUSUN, Count, Totals, day_of


def add(tx: sqlite3.Connection, wall_s: float, counts: Iterable[Count]) -> None:
    """Add one to each count, on day ``wall_s``, inside the caller's transaction ``tx``."""
    day = day_of(wall_s)
    for c in counts:
        tx.execute(
            "INSERT INTO tally (day, dusun, metric, count) VALUES (?,?,?,1)"
            " ON CONFLICT(day, dusun, metric) DO UPDATE SET count = count + 1",
            (day, c.dusun[:MAX_DUSUN], c.metric),
        )


def totals(conn: sqlite3.Connection, first: dt.date, last: dt.date) -> Totals:
    """The counts of the days ``first``..``last`` (inclusive)."""
    rows = conn.execute(
        "SELECT metric, dusun, SUM(count) FROM tally WHERE day BETWEEN ? AND ?"
        " GROUP BY metric, dusun",
        (first.isoformat(), last.isoformat()),
    ).fetchall()
    by_metric: dict[str, dict[str, int]] = {}
    for metric, dusun, n in rows:
        by_metric.setdefault(str(metric), {})[str(dusun)] = int(n)
    return Totals(first, last, by_metric)
