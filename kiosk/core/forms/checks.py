"""Named content checks a text question can ask for with ``"check": NAME``.

A check runs after the question's pattern matched. It returns None when the text is fine, or a
failure code (a key of ``ANSWER_FAILURES`` in :mod:`kiosk.core.forms.answers`) with message
parameters. Checks are pure and look only at the text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from kiosk.core.regions import region_problem

CheckResult = tuple[str, dict[str, object]] | None

KK_DIGITS = 16
_KK_REGION_FAILURE = {
    "province_unknown": "kk_region_unknown",
    "regency_unknown": "kk_region_unknown",
    "district_unknown": "kk_region_unknown",
}


def _date_exists(day: int, month: int, yy: int) -> bool:
    """Whether DD-MM-YY is a calendar date in the 1900s or the 2000s."""
    for century in (1900, 2000):
        try:
            dt.date(century + yy, month, day)
        except ValueError:
            continue
        return True
    return False


def kk_number(text: str) -> CheckResult:
    """A family card number: known district (``PPRRDD``), a real recording date
    (``DDMMYY``), and a serial that is not ``0000``. Non-16-digit text is left to the pattern."""
    if len(text) != KK_DIGITS or not (text.isascii() and text.isdigit()):
        return None
    problem = region_problem(text[:6])
    if problem is not None:
        return _KK_REGION_FAILURE[problem], {"code": text[:6]}
    if not _date_exists(int(text[6:8]), int(text[8:10]), int(text[10:12])):
        return "kk_date_invalid", {"date": f"{text[6:8]}-{text[8:10]}-{text[10:12]}"}
    if text[12:] == "0000":
        return "kk_serial_zero", {}
    return None


CHECKS: dict[str, Callable[[str], CheckResult]] = {
    "kk_number": kk_number,
}
"""Check name (as written in a definition) -> check function."""
