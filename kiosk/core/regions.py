"""Kemendagri region codes (province, regency/kota, district/kecamatan) from the shipped table.

The table is ``kiosk/core/data/regions_kemendagri.csv`` (see ``REGIONS_SOURCE.md`` beside it),
read lazily with :mod:`importlib.resources` on first use and cached. A table without any
district rows switches the district checks off (``has_districts`` is false) instead of failing
every NIK.
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

    def __init__(self, regions: dict[str, Region]) -> None:
        self._regions = regions
        self.has_districts = any(r.level == "district" for r in regions.values())

    @classmethod
    def from_csv_text(cls, text: str) -> RegionTable:
        """Parse ``code,name`` CSV text; raise :class:`RegionDataError` on a bad row."""
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
        return cls(regions)

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

    def codes(self, level: Level) -> list[str]:
        """All codes of one level, sorted."""
        return sorted(c for c, r in self._regions.items() if r.level == level)

    def __len__(self) -> int:
        return len(self._regions)


@functools.cache
def load_table() -> RegionTable:
    """The shipped Kemendagri table, read once and cached."""
    text = resources.files(DATA_PACKAGE).joinpath(DATA_FILE).read_text(encoding="utf-8")
    return RegionTable.from_csv_text(text)


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
    tbl = table or load_table()
    if tbl.province(code[:2]) is None:
        return "province_unknown"
    if len(code) >= 4 and tbl.regency(code[:4]) is None:
        return "regency_unknown"
    if len(code) >= 6 and tbl.has_districts and tbl.district(code[:6]) is None:
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
