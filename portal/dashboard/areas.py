"""Kemendagri area codes and the scope rule: an official sees their own area and what lies in it.

Codes are digit strings whose prefix is the parent: regency ``3510``, kecamatan ``351001``,
village ``3510012001`` (written 35.10.01.2001).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from portal.dashboard.i18n import _l


class Level(enum.StrEnum):
    """An area level; the value is the official's role name for that level."""

    REGENCY = "regency"
    KECAMATAN = "kecamatan"
    VILLAGE = "village"


DIGITS: dict[Level, int] = {Level.REGENCY: 4, Level.KECAMATAN: 6, Level.VILLAGE: 10}
"""Length of the code at each level."""

LABEL: dict[Level, object] = {
    Level.REGENCY: _l("Regency"),
    Level.KECAMATAN: _l("Kecamatan"),
    Level.VILLAGE: _l("Village/kelurahan"),
}
"""How the UI names each level."""

_CHILD: dict[Level, Level] = {Level.REGENCY: Level.KECAMATAN, Level.KECAMATAN: Level.VILLAGE}
_CODE = re.compile(r"^(\d{4}|\d{6}|\d{10})$")


@dataclass(frozen=True)
class Area:
    """One area by its code; the level follows from the length."""

    code: str

    @property
    def level(self) -> Level:
        """Regency, kecamatan or village."""
        return next(lv for lv, n in DIGITS.items() if n == len(self.code))

    @property
    def child_level(self) -> Level | None:
        """The level of the areas inside this one (None for a village)."""
        return _CHILD.get(self.level)

    @property
    def dotted(self) -> str:
        """The code as officials write it: 35.10.01.2001."""
        c = self.code
        parts = [c[0:2], c[2:4], c[4:6], c[6:10]]
        return ".".join(p for p in parts if p)

    def contains(self, other: Area) -> bool:
        """True if ``other`` is this area or lies inside it."""
        return other.code.startswith(self.code)

    def ancestors(self) -> list[Area]:
        """The regency and kecamatan above this area (outermost first), not itself."""
        return [Area(self.code[:n]) for n in (4, 6) if n < len(self.code)]

    def upper_bound(self) -> str:
        """The smallest code after every code in this area (for a C-collated range scan)."""
        return self.code[:-1] + chr(ord(self.code[-1]) + 1)


def parse_area(text: str) -> Area | None:
    """The area for a code (dots, spaces and dashes allowed), or None if it is not one."""
    digits = re.sub(r"[.\s-]", "", text or "")
    return Area(digits) if _CODE.match(digits) else None


def role_fits(role: str, code: str) -> bool:
    """True if ``code`` is an area code of the level role ``role`` is scoped to."""
    area = parse_area(code)
    return area is not None and area.code == code and area.level.value == role
