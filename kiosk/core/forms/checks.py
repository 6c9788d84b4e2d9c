"""Named content checks a text question can ask for with ``"check": NAME``.

A check runs after the question's pattern matched. It returns None when the text is fine, or a
failure code (a key of ``ANSWER_FAILURES`` in :mod:`kiosk.core.forms.answers`) with message
parameters. Checks are pure: they look at the text and at ``today`` (injected; None skips the
checks that need a date).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from kiosk.core.nik import NikInvalid, calendar_dates
from kiosk.core.regions import region_problem

CheckResult = tuple[str, dict[str, object]] | None

KK_DIGITS = 16
KK_MAX_AGE_YEARS = 60
"""A family card is re-issued whenever the household changes; a recording date older than this
is a typo, not a card."""
_KK_REGION_FAILURE = {
    "province_unknown": "kk_region_unknown",
    "regency_unknown": "kk_region_unknown",
    "district_unknown": "kk_region_unknown",
}


def _years_before(earlier: dt.date, later: dt.date) -> int:
    years = later.year - earlier.year
    return years - 1 if (later.month, later.day) < (earlier.month, earlier.day) else years


def kk_number(text: str, today: dt.date | None = None) -> CheckResult:
    """A family card number: a known district (``PPRRDD``, the NIK's region table), a real
    recording date (``DDMMYY``, the NIK's date rule) that is not still to come nor implausibly
    old, and a serial that is not ``0000``. Non-16-digit text is left to the pattern."""
    if len(text) != KK_DIGITS or not (text.isascii() and text.isdigit()):
        return None
    problem = region_problem(text[:6])
    if problem is not None:
        return _KK_REGION_FAILURE[problem], {"code": text[:6]}
    date = f"{text[6:8]}-{text[8:10]}-{text[10:12]}"
    try:
        dates = calendar_dates(int(text[6:8]), int(text[8:10]), int(text[10:12]))
    except NikInvalid:
        return "kk_date_invalid", {"date": date}
    if today is not None:
        plausible = [d for d in dates if d <= today and _years_before(d, today) <= KK_MAX_AGE_YEARS]
        if not plausible:
            future = any(d > today for d in dates)
            return ("kk_date_future" if future else "kk_date_invalid"), {"date": date}
    if text[12:] == "0000":
        return "kk_serial_zero", {}
    return None


CHECKS: dict[str, Callable[[str, dt.date | None], CheckResult]] = {
    "kk_number": kk_number,
}
"""Check name (as written in a definition) -> check function."""
