"""What counts as a kiosk problem on the dashboard, and how each is named to officials."""

from __future__ import annotations

from dataclasses import dataclass

from portal.dashboard.i18n import _, decimal, ngettext
from portal.dashboard.queries import Kiosk

STALE_S = 15 * 60.0
"""No heartbeat for this long: the kiosk is 'not seen' (heartbeats come every 60 s by default)."""
BACKLOG_AGE_S = 24 * 3600.0
"""A record waiting longer than this on the kiosk is a backlog problem."""
DISK_LOW_BYTES = 1024**3
"""Less free space than this on the kiosk's data disk."""
HOT_C = 75.0
"""SoC temperature at which the Pi is close to throttling (it throttles from 80-85 degC)."""
SKEW_S = 300.0
"""Kiosk clock this far from the portal's: its times are not trusted."""


@dataclass(frozen=True)
class Problem:
    """One problem: a short machine key and the text shown (in the request's language)."""

    key: str
    text: str


def problems(k: Kiosk, now: float) -> list[Problem]:
    """The kiosk's problems, most urgent first (an empty list: healthy)."""
    out: list[Problem] = []
    if k.last_seen is None:
        out.append(Problem("never", _("Has never sent a signal")))
    elif now - k.last_seen > STALE_S:
        out.append(Problem("stale", _("Not seen for %(age)s", age=duration(now - k.last_seen))))
    elif k.online is False:
        out.append(Problem("offline", _("Disconnected from the network")))
    if k.dead:
        out.append(Problem("dead", ngettext(
            "%(num)d record failed to send", "%(num)d records failed to send", k.dead
        )))  # fmt: skip
    if k.oldest_pending_s is not None and k.oldest_pending_s > BACKLOG_AGE_S:
        age = duration(k.oldest_pending_s)
        out.append(Problem("backlog", _("Backlog stuck for %(age)s", age=age)))
    if k.disk_free_bytes is not None and k.disk_free_bytes < DISK_LOW_BYTES:
        out.append(Problem("disk", _("Disk space almost full")))
    if k.temp_c is not None and k.temp_c >= HOT_C:
        out.append(Problem("hot", _("Temperature too high")))
    if k.clock_synced is False or (k.clock_skew_s is not None and abs(k.clock_skew_s) > SKEW_S):
        out.append(Problem("clock", _("Clock cannot be trusted")))
    return out


def clock_trusted(k: Kiosk) -> bool | None:
    """True if the kiosk's clock is synchronised and close to the portal's (None: unknown)."""
    if k.clock_synced is None:
        return None
    return k.clock_synced and (k.clock_skew_s is None or abs(k.clock_skew_s) <= SKEW_S)


def duration(seconds: float) -> str:
    """A rough duration: '5 menit', '3 jam', '2 hari' ('5 minutes', ...)."""
    s = max(0.0, seconds)
    if s < 90:
        return ngettext("%(num)d second", "%(num)d seconds", int(s))
    if s < 90 * 60:
        return ngettext("%(num)d minute", "%(num)d minutes", round(s / 60))
    if s < 36 * 3600:
        return ngettext("%(num)d hour", "%(num)d hours", round(s / 3600))
    return ngettext("%(num)d day", "%(num)d days", round(s / 86400))


def size(n: int) -> str:
    """Bytes as officials read them: '3,2 GB' (the language's decimal mark)."""
    if n >= 1024**3:
        return f"{decimal(n / 1024**3, 1)} GB"
    return f"{n / 1024**2:.0f} MB"
