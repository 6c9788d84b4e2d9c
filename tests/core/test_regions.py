"""The shipped Kemendagri region table and its lookups."""

from __future__ import annotations

import pytest

from kiosk.core import regions
from kiosk.core.regions import RegionDataError, RegionTable, load_table

# Kemendagri (not BPS) codes for the 38 provinces, per Kepmendagri 100.1.1-6117/2022 and later.
PROVINCE_CODES = [
    "11",
    "12",
    "13",
    "14",
    "15",
    "16",
    "17",
    "18",
    "19",
    "21",
    "31",
    "32",
    "33",
    "34",
    "35",
    "36",
    "51",
    "52",
    "53",
    "61",
    "62",
    "63",
    "64",
    "65",
    "71",
    "72",
    "73",
    "74",
    "75",
    "76",
    "81",
    "82",
    "91",
    "92",
    "93",
    "94",
    "95",
    "96",
]


def test_all_38_provinces_are_present() -> None:
    table = load_table()
    assert table.codes("province") == PROVINCE_CODES
    assert len(PROVINCE_CODES) == 38


def test_papua_uses_kemendagri_codes() -> None:
    assert regions.province("91").name == "Papua"  # type: ignore[union-attr]
    assert regions.province("92").name == "Papua Barat"  # type: ignore[union-attr]
    assert regions.province("93").name == "Papua Selatan"  # type: ignore[union-attr]
    assert regions.province("94").name == "Papua Tengah"  # type: ignore[union-attr]
    assert regions.province("95").name == "Papua Pegunungan"  # type: ignore[union-attr]
    assert regions.province("96").name == "Papua Barat Daya"  # type: ignore[union-attr]
    assert regions.province("97") is None
    # Merauke moved to Papua Selatan in 2022
    assert regions.regency("9301").name == "Kabupaten Merauke"  # type: ignore[union-attr]


def test_three_levels_are_shipped_with_districts() -> None:
    table = load_table()
    assert table.has_districts
    assert len(table.codes("regency")) > 500
    assert len(table.codes("district")) > 7000
    assert regions.regency("3510").name == "Kabupaten Banyuwangi"  # type: ignore[union-attr]
    assert regions.district("351001").name == "Pesanggaran"  # type: ignore[union-attr]


def test_lookup_is_by_level() -> None:
    assert regions.regency("35") is None
    assert regions.province("3510") is None
    assert regions.district("3510") is None


def test_table_is_loaded_once() -> None:
    assert load_table() is load_table()


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("3510012001", True),
        ("35.10.01.2001", True),
        ("3510992001", "district_unknown"),
        ("3599012001", "regency_unknown"),
        ("9901012001", "province_unknown"),
        ("351001200", "village_code_format"),
        ("35100120011", "village_code_format"),
        ("35100120a1", "village_code_format"),
    ],
)
def test_village_code_checks_its_district_part(code: str, expected: bool | str) -> None:
    assert regions.village_code_valid(code) == expected


def test_village_code_without_district_data_checks_regency_only() -> None:
    table = RegionTable.from_csv_text("code,name\n35,Jawa Timur\n3510,Banyuwangi\n")
    assert regions.village_code_valid("3510992001", table) is True
    assert regions.village_code_valid("3511992001", table) == "regency_unknown"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("kode,nama\n35,Jawa Timur\n", "header"),
        ("code,name\n35\n", "2 fields"),
        ("code,name\n355,Jawa Timur\n", "bad row"),
        ("code,name\n3a,Jawa Timur\n", "bad row"),
        ("code,name\n35,\n", "bad row"),
        ("code,name\n35,Jawa Timur\n35,Jawa Timur\n", "duplicate"),
        ("code,name\n3510,Banyuwangi\n", "no parent"),
    ],
)
def test_malformed_table_is_rejected(text: str, fragment: str) -> None:
    with pytest.raises(RegionDataError, match=fragment):
        RegionTable.from_csv_text(text)
