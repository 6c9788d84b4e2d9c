"""Kemendagri region codes (province, regency/kota, district/kecamatan) from the shipped table.

The table is ``kiosk/core/data/regions_kemendagri.csv`` (see ``REGIONS_SOURCE.md`` beside it),
read lazily with :mod:`importlib.resources` on first use and cached. A table without any
district rows switches the district checks off (``has_districts`` is false) instead of failing
every NIK.

A NIK keeps the codes of the region where it was issued, so ``regions_former.csv`` maps regency
codes retired by a renumbering (the 2022 Papua split: ``9101`` Merauke is now ``9301``) to
today's codes; district suffixes were kept, so ``910101`` resolves to ``930101``.
"""

from __future__ import annotations

import csv
import functools
import io
from dataclasses import dataclass
from importlib import resources
from typing import Literal

from kiosk.errors import KioskError

DATA_PACKAGE = "kiosk.core.data"
DATA_FILE = "regions_kemendagri.csv"
FORMER_FILE = "regions_former.csv"

Level = Literal["province", "regency", "district"]
LEVEL_BY_DIGITS: dict[int, Level] = {2: "province", 4: "regency", 6: "district"}

VILLAGE_CODE_DIGITS = 10


@dataclass(frozen=True)
class Region:
    """One administrative region: its digits-only Kemendagri code, name and level."""

    code: str
    name: str
    level: Level


class RegionDataError(KioskError, ValueError):
    """The region table is malformed (bad code, duplicate, missing parent)."""


class RegionTable:
    """Regions by code, built from ``code,name`` CSV text."""

    def __init__(self, regions: dict[str, Region], former: dict[str, str] | None = None) -> None:
        self._regions = regions
        self._former = dict(former or {})
        self.has_districts = any(r.level == "district" for r in regions.values())
        for old, new in self._former.items():
            if old in regions or self.regency(new) is None:
                raise RegionDataError(f"former regency {old} -> {new}: not a retired/current pair")

    @classmethod
    def from_csv_text(cls, text: str, former_text: str | None = None) -> RegionTable:
        """Parse ``code,name`` CSV text (and ``former_code,current_code`` text, if given).

        Raises :class:`RegionDataError` on a bad row.
        """
        regions: dict[str, Region] = {}
        reader = csv.reader(io.StringIO(text))
        header = next(reader, None)
        if header != ["code", "name"]:
            raise RegionDataError(f"region table header must be 'code,name', got {header!r}")
        for line_no, row in enumerate(reader, start=2):
            if len(row) != 2:
                raise RegionDataError(f"region table line {line_no}: expected 2 fields")
            code, name = row[0].strip(), row[1].strip()
            level = LEVEL_BY_DIGITS.get(len(code))
            if level is None or not (code.isascii() and code.isdigit()) or not name:
                raise RegionDataError(f"region table line {line_no}: bad row {row!r}")
            if code in regions:
                raise RegionDataError(f"region table line {line_no}: duplicate code {code}")
            if level != "province" and code[:-2] not in regions:
                raise RegionDataError(f"region table line {line_no}: {code} has no parent")
            regions[code] = Region(code, name, level)
        return cls(regions, _parse_former(former_text) if former_text else None)

    def get(self, code: str, level: Level) -> Region | None:
        """The region of ``level`` with this digits-only code, or None."""
        region = self._regions.get(code)
        return region if region is not None and region.level == level else None

    def province(self, code: str) -> Region | None:
        """Province by 2-digit code (e.g. ``"65"`` Kalimantan Utara), or None."""
        return self.get(code, "province")

    def regency(self, code: str) -> Region | None:
        """Regency or city by 4-digit code (e.g. ``"3510"``), or None."""
        return self.get(code, "regency")

    def district(self, code: str) -> Region | None:
        """District (kecamatan) by 6-digit code (e.g. ``"351001"``), or None."""
        return self.get(code, "district")

    def current_regency_code(self, code: str) -> str | None:
        """Today's 4-digit code for a regency code found in a NIK (current or retired), or None."""
        if self.regency(code) is not None:
            return code
        return self._former.get(code)

    def former_codes(self) -> dict[str, str]:
        """Retired regency code -> today's code."""
        return dict(self._former)

    def codes(self, level: Level) -> list[str]:
        """All codes of one level, sorted."""
        return sorted(c for c, r in self._regions.items() if r.level == level)

    def __len__(self) -> int:
        return len(self._regions)


def _parse_former(text: str) -> dict[str, str]:
    """``former_code,current_code`` CSV text -> mapping of 4-digit regency codes."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header != ["former_code", "current_code"]:
        raise RegionDataError(f"former-code header must be 'former_code,current_code': {header}")
    former: dict[str, str] = {}
    for line_no, row in enumerate(reader, start=2):
        if len(row) != 2 or not all(len(c) == 4 and c.isascii() and c.isdigit() for c in row):
            raise RegionDataError(f"former-code line {line_no}: bad row {row!r}")
        former[row[0]] = row[1]
    return former


@functools.cache
def load_table() -> RegionTable:
    """The shipped Kemendagri table (with retired regency codes, if shipped), read once."""
    folder = resources.files(DATA_PACKAGE)
    text = folder.joinpath(DATA_FILE).read_text(encoding="utf-8")
    former = folder.joinpath(FORMER_FILE)
    former_text = former.read_text(encoding="utf-8") if former.is_file() else None
    return RegionTable.from_csv_text(text, former_text)


def province(code: str) -> Region | None:
    """Province by 2-digit Kemendagri code, from the shipped table."""
    return load_table().province(code)


def regency(code: str) -> Region | None:
    """Regency or city by 4-digit Kemendagri code, from the shipped table."""
    return load_table().regency(code)


def district(code: str) -> Region | None:
    """District (kecamatan) by 6-digit Kemendagri code, from the shipped table."""
    return load_table().district(code)


def region_problem(code: str, table: RegionTable | None = None) -> str | None:
    """The failure code for the first unknown level of a 2-, 4- or 6-digit code, else None.

    Failure codes: ``province_unknown``, ``regency_unknown``, ``district_unknown`` (the last only
    when the table has district rows).
    """
    tbl = table if table is not None else load_table()
    if tbl.province(code[:2]) is None:
        return "province_unknown"
    if len(code) < 4:
        return None
    regency_code = tbl.current_regency_code(code[:4])
    if regency_code is None:
        return "regency_unknown"
    if len(code) >= 6 and tbl.has_districts and tbl.district(regency_code + code[4:6]) is None:
        return "district_unknown"
    return None


def village_code_valid(code10: str, table: RegionTable | None = None) -> bool | str:
    """True if a 10-digit village code's district part is known, else the failure code.

    Only the province/regency/district part is checked (village level is not shipped). The
    failure codes are ``village_code_format`` (not exactly 10 ASCII digits, dots allowed) and
    those of :func:`region_problem`.
    """
    digits = code10.replace(".", "")
    if len(digits) != VILLAGE_CODE_DIGITS or not (digits.isascii() and digits.isdigit()):
        return "village_code_format"
    return region_problem(digits[:6], table) or True
