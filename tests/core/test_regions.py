"""The shipped Kemendagri region table and its lookups."""

from __future__ import annotations

import csv
import importlib.util
import io
import sys
from importlib import resources
from pathlib import Path
from typing import Any

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


def test_former_codes_cover_every_regency_of_the_new_papua_provinces() -> None:
    table = load_table()
    former = table.former_codes()
    new_regencies = [c for c in table.codes("regency") if c[:2] in {"93", "94", "95", "96"}]
    assert sorted(former.values()) == new_regencies
    assert all(old[:2] in {"91", "92"} and table.regency(old) is None for old in former)
    assert table.current_regency_code("9101") == "9301"
    assert table.current_regency_code("3510") == "3510"
    assert table.current_regency_code("3599") is None


def test_region_problem_follows_former_codes() -> None:
    assert regions.region_problem("910101") is None
    assert regions.region_problem("910199") == "district_unknown"
    assert regions.village_code_valid("9209052001") is True


@pytest.mark.parametrize(
    ("former_text", "fragment"),
    [
        ("old,new\n9101,3510\n", "header"),
        ("former_code,current_code\n9101\n", "bad row"),
        ("former_code,current_code\n91a1,3510\n", "bad row"),
        ("former_code,current_code\n3510,3510\n", "not a retired/current pair"),
        ("former_code,current_code\n9101,9301\n", "not a retired/current pair"),
    ],
)
def test_malformed_former_codes_are_rejected(former_text: str, fragment: str) -> None:
    text = "code,name\n35,Jawa Timur\n3510,Banyuwangi\n"
    with pytest.raises(RegionDataError, match=fragment):
        RegionTable.from_csv_text(text, former_text)


# --- the generator script: its derivation reproduces the shipped files ----------------------
def _build_script() -> Any:
    """scripts/build_regions.py imported as a module."""
    path = Path(__file__).resolve().parents[2] / "scripts" / "build_regions.py"
    spec = importlib.util.spec_from_file_location("build_regions", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_regions"] = module
    spec.loader.exec_module(module)
    return module


def _shipped_rows() -> list[tuple[str, str]]:
    text = resources.files("kiosk.core.data").joinpath("regions_kemendagri.csv").read_text("utf-8")
    return [(r[0], r[1]) for r in list(csv.reader(io.StringIO(text)))[1:]]


def test_build_script_derives_the_shipped_former_codes(tmp_path: Path) -> None:
    build = _build_script()
    mapping = build.former_codes(dict(_shipped_rows()))
    out = tmp_path / "former.csv"
    build.write_csv(mapping, out, ("former_code", "current_code"))
    shipped = resources.files("kiosk.core.data").joinpath("regions_former.csv")
    assert out.read_text("utf-8") == shipped.read_text("utf-8")


def test_build_script_rejects_an_unmatched_new_regency() -> None:
    build = _build_script()
    current = dict(_shipped_rows())
    current["9609"] = "Kabupaten Baru"
    with pytest.raises(build.BuildError, match="not covered once"):
        build.former_codes(current)


def test_build_script_rebuilds_the_csv_from_a_package_folder(tmp_path: Path) -> None:
    build = _build_script()
    data = tmp_path / "package" / "data"
    data.mkdir(parents=True)
    rows = _shipped_rows()
    provinces = [(c, n) for c, n in rows if len(c) == 2]
    regencies = [(c, n) for c, n in rows if len(c) == 4]
    districts = [(c, n) for c, n in rows if len(c) == 6]

    def dotted(code: str) -> str:
        return ".".join(code[i : i + 2] for i in range(0, len(code), 2))

    def write(name: str, header: list[str], body: list[list[str]]) -> None:
        with (data / name).open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(header)
            w.writerows(body)

    write("provinces.csv", ["code", "name"], [[c, n] for c, n in provinces])
    write(
        "regencies.csv",
        ["code", "province_code", "name"],
        [[dotted(c), c[:2], n] for c, n in regencies],
    )
    write(
        "districts.csv",
        ["code", "regency_code", "name"],
        [[dotted(c), dotted(c[:4]), n] for c, n in districts],
    )
    out = tmp_path / "regions.csv"
    assert build.main(["--source", str(tmp_path / "package"), "--out", str(out)]) == 0
    shipped = resources.files("kiosk.core.data").joinpath("regions_kemendagri.csv")
    assert out.read_text("utf-8") == shipped.read_text("utf-8")
    assert (tmp_path / "regions_former.csv").is_file()

    # a district whose parent regency is missing fails the build
    write("districts.csv", ["code", "regency_code", "name"], [["35.99.01", "35.99", "X"]])
    assert build.main(["--source", str(tmp_path / "package"), "--out", str(out)]) == 1


def test_region_problem_uses_an_injected_empty_table() -> None:
    empty = RegionTable.from_csv_text("code,name\n")
    assert regions.region_problem("351001", empty) == "province_unknown"
