"""Server-side SVG charts: plain markup, no script, no fonts or files from elsewhere.

Every chart has a ``<title>`` and ``role="img"`` with an ``aria-label``; the page puts the same
numbers in a table beside it, so nothing is only in the picture.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from portal.dashboard.i18n import _, ngettext


@dataclass(frozen=True)
class Segment:
    """One part of a stacked bar: a label, its value and its CSS class (colour)."""

    label: str
    value: int
    css: str


def nice_max(value: int) -> int:
    """A round axis maximum at or above ``value`` (1, 2, 5 x 10^k)."""
    if value <= 0:
        return 1
    exp = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * exp >= value:
            return step * exp
    return 10 * exp  # pragma: no cover


def daily_bars(series: Sequence[tuple[dt.date, int]], title: str,
               width: int = 760, height: int = 220) -> Markup:  # fmt: skip
    """A bar per day with a y axis (0, half, max) and a date label every few days."""
    left, right, top, bottom = 44, 8, 12, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = nice_max(max((v for _, v in series), default=0))
    n = max(1, len(series))
    slot = plot_w / n
    bar = max(1.0, slot * 0.8)
    every = max(1, math.ceil(n / 8))
    total = sum(v for _, v in series)
    label = ngettext(
        "%(title)s: %(total)s registrations in %(num)d day",
        "%(title)s: %(total)s registrations in %(num)d days",
        len(series), title=title, total=total,
    )  # fmt: skip
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img"'
        f' aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(label)}</title>",
    ]
    for frac in (0.0, 0.5, 1.0):
        y = top + plot_h * (1 - frac)
        parts.append(
            f'<line class="grid" x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}"/>'
            f'<text class="axis" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{round(top_value * frac)}</text>"
        )
    for i, (day, value) in enumerate(series):
        h = plot_h * value / top_value
        x = left + i * slot + (slot - bar) / 2
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar:.1f}"'
            f' height="{h:.1f}"><title>{day.isoformat()}: {value}</title></rect>'
        )
        if i % every == 0:
            parts.append(
                f'<text class="axis" x="{left + i * slot + slot / 2:.1f}" y="{height - 10}"'
                f' text-anchor="middle">{day.day:02d}/{day.month:02d}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def stacked_bar(segments: Sequence[Segment], title: str, empty: str | None = None,
                width: int = 760, height: int = 44) -> Markup:  # fmt: skip
    """One horizontal bar split into the segments' shares (a grey bar saying ``empty`` when
    there is nothing to show)."""
    total = sum(s.value for s in segments)
    described = ", ".join(f"{s.label} {s.value}" for s in segments)
    label = f"{title}: {described}" if total else f"{title}: {empty or _('no data yet')}"
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img"'
        f' aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(label)}</title>",
        f'<rect class="empty" x="0" y="4" width="{width}" height="{height - 8}"/>',
    ]
    x = 0.0
    for s in segments:
        if total == 0 or s.value == 0:
            continue
        w = width * s.value / total
        parts.append(
            f'<rect class="{escape(s.css)}" x="{x:.1f}" y="4" width="{w:.1f}"'
            f' height="{height - 8}"><title>{escape(s.label)}: {s.value}</title></rect>'
        )
        x += w
    parts.append("</svg>")
    return Markup("".join(parts))
