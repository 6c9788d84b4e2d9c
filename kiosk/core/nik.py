"""NIK (Nomor Induk Kependudukan) parsing with messages a villager understands.

A NIK has 16 digits: ``PPRRDD`` Kemendagri province/regency/district codes, ``DDMMYY`` date of
birth (women add 40 to the day), and a 4-digit serial that is never ``0000``. Spaces, dots and
dashes are accepted as separators. Each failure raises :class:`NikInvalid` (a
:class:`~kiosk.errors.NikError`) with a stable ``code`` from :data:`FAILURES` and a message id
the edge translates (``err.message(gettext)``; ``str(err)`` is English, for logs).

The two-digit year is resolved with ``today`` (injected, never read from the system clock):
the 1900s and 2000s are both tried and a century is kept when the age it gives is plausible;
when both are, the result lists both candidates and ``ambiguous_century`` is true, and the
UI asks the person which year is right (:meth:`NikInfo.with_birth_date`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from kiosk.core.i18n import N_, Translatable, render
from kiosk.core.regions import RegionTable, load_table
from kiosk.errors import NikError

NIK_DIGITS = 16
SEPARATORS = frozenset(" .-\u00a0\t")
"""Characters removed before checking: space, dot, dash, no-break space, tab."""
FEMALE_DAY_OFFSET = 40
CENTURIES = (1900, 2000)
MAX_PLAUSIBLE_AGE = 110
"""Default oldest plausible age in years; older readings of the year are discarded."""

LOOKALIKES: dict[str, str] = {"O": "0", "o": "0", "D": "0", "I": "1", "l": "1", "i": "1"}
LOOKALIKES |= {"Z": "2", "z": "2", "S": "5", "s": "5", "G": "6", "b": "6", "B": "8", "g": "9"}
"""Letters often typed or read for a digit -> that digit, for the ``lookalike_letter`` hint."""

FAILURES: dict[str, str] = {
    "empty": N_("No NIK entered yet. Type the 16 digits of the NIK from your KTP or family card."),
    "bad_character": N_("A NIK has only the numbers 0-9. '%(char)s' is not a number."),
    "lookalike_letter": N_("The letter '%(char)s' is not a digit. Did you mean %(digit)s?"),
    "too_short": N_("A NIK has 16 digits; you typed only %(count)s. A digit is missing."),
    "too_long": N_("A NIK has 16 digits; you typed %(count)s. There is an extra digit."),
    "province_unknown": N_(
        "The first two digits (%(code)s) are not a province code. Check the start of the NIK."
    ),
    "regency_unknown": N_(
        "Digits 3-4 (%(code)s) are not a regency or city code in %(province)s. Please check."
    ),
    "district_unknown": N_(
        "Digits 5-6 (%(code)s) are not a district code in %(regency)s. Please check."
    ),
    "day_invalid": N_(
        "Digits 7-8 (%(day)s) are not a day of birth: 01-31 for men, 41-71 for women."
    ),
    "month_invalid": N_(
        "Digits 9-10 (%(month)s) are not a month of birth. The month must be 01 to 12."
    ),
    "date_invalid": N_("The birth date in the NIK (%(day)s-%(month)s-%(year)s) does not exist."),
    "age_implausible": N_("The birth year in the NIK (%(year)s) is not possible. Please check."),
    "serial_zero": N_("The last four digits of a NIK are never 0000. Check the end of the NIK."),
}
"""Failure code -> message id (English msgid, translated at the edge); codes are stable API."""


class NikInvalid(Translatable, NikError):
    """A NIK failed a check; ``code`` names which, ``params`` fill the message.

    ``str(err)`` is the English message (logs); ``err.message(gettext)`` translates it."""

    def __init__(self, failure: str, /, **params: object) -> None:
        self.msgid = FAILURES[failure]
        self.params = dict(params)
        super().__init__(render(self.msgid, self.params), code=failure)


@dataclass(frozen=True)
class NikInfo:
    """The fields of a valid NIK. ``birth_date`` is None while the century is ambiguous.

    Region codes and names are today's (Kemendagri); ``nik_region_code`` keeps the digits as
    written, which differ for a NIK issued before its regency was renumbered.
    """

    nik: str
    province_code: str
    province_name: str
    regency_code: str
    regency_name: str
    district_code: str
    district_name: str | None
    """None only when the shipped region table has no district level."""
    birth_date_candidates: tuple[dt.date, ...]
    sex: Literal["F", "M"]
    serial: str
    nik_region_code: str
    """The first six digits as written in the NIK; differ from ``district_code`` if renumbered."""
    birth_date: dt.date | None = field(default=None)

    @property
    def renumbered(self) -> bool:
        """True when the NIK carries a regency code retired since (e.g. Papua before 2022)."""
        return self.nik_region_code != self.district_code

    @property
    def ambiguous_century(self) -> bool:
        """True when more than one century gives a plausible age: ask the person."""
        return len(self.birth_date_candidates) > 1

    def with_birth_date(self, chosen: dt.date) -> NikInfo:
        """This NIK with the century settled by the person's choice among the candidates."""
        if chosen not in self.birth_date_candidates:
            raise ValueError(f"{chosen} is not one of the NIK's possible birth dates")
        return replace(self, birth_date=chosen, birth_date_candidates=(chosen,))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (dates as ISO strings); includes the full NIK, so never log it."""
        return {
            "nik": self.nik,
            "province": {"code": self.province_code, "name": self.province_name},
            "regency": {"code": self.regency_code, "name": self.regency_name},
            "district": {"code": self.district_code, "name": self.district_name},
            "birth_date": self.birth_date.isoformat() if self.birth_date else None,
            "birth_date_candidates": [d.isoformat() for d in self.birth_date_candidates],
            "ambiguous_century": self.ambiguous_century,
            "sex": self.sex,
            "serial": self.serial,
            "nik_region_code": self.nik_region_code,
            "renumbered": self.renumbered,
        }


def normalise_nik(text: str) -> str:
    """The digits of ``text`` with spaces, dots and dashes removed.

    Raises :class:`NikInvalid` ``empty``, ``lookalike_letter`` (an O for a 0) or
    ``bad_character``; the length is not checked here.
    """
    digits: list[str] = []
    for ch in text:
        if ch in SEPARATORS:
            continue
        if not ("0" <= ch <= "9"):
            if ch in LOOKALIKES:
                raise NikInvalid("lookalike_letter", char=ch, digit=LOOKALIKES[ch])
            raise NikInvalid("bad_character", char=ch)
        digits.append(ch)
    if not digits:
        raise NikInvalid("empty")
    return "".join(digits)


def mask_nik(nik: str) -> str:
    """``nik`` for display with its middle hidden: ``3510********0001``.

    Separators are dropped first; anything shorter than 9 characters is hidden entirely.
    """
    compact = "".join(ch for ch in nik if ch not in SEPARATORS)
    if len(compact) < 9:
        return "*" * len(compact)
    return compact[:4] + "*" * (len(compact) - 8) + compact[-4:]


def _age_on(born: dt.date, today: dt.date) -> int:
    """Whole years from ``born`` to ``today`` (negative if born after today)."""
    years = today.year - born.year
    return years - 1 if (today.month, today.day) < (born.month, born.day) else years


def calendar_dates(day: int, month: int, yy: int) -> tuple[dt.date, ...]:
    """The real dates ``DD-MM-YY`` can be in the 1900s and 2000s, oldest first.

    The one rule for a two-digit-year date in an identity number (the NIK's birth date, the
    No. KK's recording date). Raises :class:`NikInvalid` ``date_invalid`` when there is none.
    """
    real: list[dt.date] = []
    for century in CENTURIES:
        try:
            real.append(dt.date(century + yy, month, day))
        except ValueError:
            continue  # e.g. 29 February in 1900 but not 2000
    if not real:
        raise NikInvalid("date_invalid", day=f"{day:02d}", month=f"{month:02d}", year=f"{yy:02d}")
    return tuple(real)


def _birth_dates(
    day: int, month: int, yy: int, today: dt.date, min_age: int, max_age: int
) -> tuple[dt.date, ...]:
    """Plausible birth dates for ``day``/``month``/``yy``, oldest first; raises if none."""
    real = calendar_dates(day, month, yy)
    plausible = tuple(d for d in real if d <= today and min_age <= _age_on(d, today) <= max_age)
    if not plausible:
        raise NikInvalid("age_implausible", year=f"{yy:02d}")
    return plausible


def parse_nik(
    text: str,
    today: dt.date,
    *,
    min_age: int = 0,
    max_age: int = MAX_PLAUSIBLE_AGE,
    regions: RegionTable | None = None,
) -> NikInfo:
    """Check a NIK as typed and return its fields, or raise :class:`NikInvalid`.

    ``today`` is the local date used to choose the century; ``min_age``/``max_age`` (years)
    bound the plausible age (pass ``min_age=17`` for an ID-card holder to avoid needless
    century questions). ``regions`` defaults to the shipped Kemendagri table. Checks run left
    to right and the first failure is raised.
    """
    nik = normalise_nik(text)
    if len(nik) < NIK_DIGITS:
        raise NikInvalid("too_short", count=len(nik))
    if len(nik) > NIK_DIGITS:
        raise NikInvalid("too_long", count=len(nik))
    table = regions if regions is not None else load_table()

    prov = table.province(nik[:2])
    if prov is None:
        raise NikInvalid("province_unknown", code=nik[:2])
    regency_code = table.current_regency_code(nik[:4])
    reg = table.regency(regency_code) if regency_code else None
    if reg is None:
        raise NikInvalid("regency_unknown", code=nik[2:4], province=prov.name)
    prov = table.province(reg.code[:2]) or prov  # a renumbered regency may be in a new province
    district_code = reg.code + nik[4:6]
    dist = table.district(district_code)
    if dist is None and table.has_districts:
        raise NikInvalid("district_unknown", code=nik[4:6], regency=reg.name)

    day_field, month, yy = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    sex: Literal["F", "M"] = "F" if day_field > FEMALE_DAY_OFFSET else "M"
    day = day_field - FEMALE_DAY_OFFSET if sex == "F" else day_field
    if not 1 <= day <= 31:
        raise NikInvalid("day_invalid", day=nik[6:8])
    if not 1 <= month <= 12:
        raise NikInvalid("month_invalid", month=nik[8:10])
    candidates = _birth_dates(day, month, yy, today, min_age, max_age)

    serial = nik[12:]
    if serial == "0000":
        raise NikInvalid("serial_zero")
    return NikInfo(
        nik=nik,
        province_code=prov.code,
        province_name=prov.name,
        regency_code=reg.code,
        regency_name=reg.name,
        district_code=district_code,
        district_name=dist.name if dist else None,
        nik_region_code=nik[:6],
        birth_date_candidates=candidates,
        birth_date=candidates[0] if len(candidates) == 1 else None,
        sex=sex,
        serial=serial,
    )
