"""NIK parsing: fields, every failure code, century choice, separators, masking."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.core import nik as nikmod
from kiosk.core.nik import (
    FAILURES,
    NikInfo,
    NikInvalid,
    mask_nik,
    normalise_nik,
    parse_nik,
)
from kiosk.core.regions import RegionTable, load_table
from kiosk.errors import InputError, NikError
from kiosk.languages import translator

TODAY = dt.date(2026, 11, 29)
# Banyuwangi (35 10), Pesanggaran (01); a woman born 5 July 1985 (45 = 5 + 40), serial 0001.
WOMAN = "3510014507850001"


def fail(text: str, **kw: object) -> NikInvalid:
    """The NikInvalid raised for ``text``."""
    with pytest.raises(NikInvalid) as info:
        parse_nik(text, TODAY, **kw)  # type: ignore[arg-type]
    return info.value


def test_parses_every_field() -> None:
    info = parse_nik(WOMAN, TODAY)
    assert info.nik == WOMAN
    assert (info.province_code, info.province_name) == ("35", "Jawa Timur")
    assert (info.regency_code, info.regency_name) == ("3510", "Kabupaten Banyuwangi")
    assert (info.district_code, info.district_name) == ("351001", "Pesanggaran")
    assert info.birth_date == dt.date(1985, 7, 5)
    assert info.birth_date_candidates == (dt.date(1985, 7, 5),)
    assert not info.ambiguous_century
    assert info.sex == "F"
    assert info.serial == "0001"


def test_man_day_is_not_shifted() -> None:
    info = parse_nik("3510010507850001", TODAY)
    assert info.sex == "M"
    assert info.birth_date == dt.date(1985, 7, 5)


@pytest.mark.parametrize(
    ("day_field", "sex", "day"),
    [("01", "M", 1), ("31", "M", 31), ("41", "F", 1), ("71", "F", 31)],
)
def test_women_add_forty_to_the_day(day_field: str, sex: str, day: int) -> None:
    info = parse_nik(f"351001{day_field}0185" + "0001", TODAY)
    assert info.sex == sex
    assert info.birth_date == dt.date(1985, 1, day)


@pytest.mark.parametrize(
    "text",
    [
        "3510 0145 0785 0001",
        "35.10.01.450785.0001",
        "35-10-01-45-07-85-0001",
        " 3510014507850001 ",
        "3510\u00a00145\t07850001",
    ],
)
def test_separators_are_accepted(text: str) -> None:
    assert parse_nik(text, TODAY).nik == WOMAN
    assert normalise_nik(text) == WOMAN


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("65", "Kalimantan Utara"),
        ("91", "Papua"),
        ("92", "Papua Barat"),
        ("93", "Papua Selatan"),
        ("94", "Papua Tengah"),
        ("95", "Papua Pegunungan"),
        ("96", "Papua Barat Daya"),
    ],
)
def test_provinces_missing_from_stdnum_are_accepted(code: str, name: str) -> None:
    table = load_table()
    regency = table.codes("regency")
    reg = next(r for r in regency if r.startswith(code))
    dist = next(d for d in table.codes("district") if d.startswith(reg))
    info = parse_nik(dist + "0101900001", TODAY)
    assert info.province_name == name
    assert info.regency_code == reg


# --- every failure code is reachable and has both languages ----------------------------------
FAILING: dict[str, str] = {
    "empty": " - . ",
    "bad_character": "35100145#7850001",
    "lookalike_letter": "35100145O7850001",
    "too_short": "351001450785001",
    "too_long": "35100145078500011",
    "province_unknown": "9701014507850001",
    "regency_unknown": "3599014507850001",
    "district_unknown": "3510994507850001",
    "day_invalid": "3510013507850001",
    "month_invalid": "3510014513850001",
    "date_invalid": "3510017002850001",
    "serial_zero": "3510014507850000",
}


@pytest.mark.parametrize(("code", "text"), sorted(FAILING.items()))
def test_each_failure_has_its_code(code: str, text: str) -> None:
    err = fail(text)
    assert err.code == code
    assert str(err) == err.message() == FAILURES[code] % err.params  # English, for logs
    indonesian = err.message(translator("id"))
    assert indonesian != err.message()
    assert "%(" not in indonesian and "%(" not in err.message()


def test_age_implausible_is_reachable_with_age_bounds() -> None:
    # yy=15: 2015 is 11 years old (< 17), 1915 is 111 (> 110)
    err = fail("3510010101150001", min_age=17)
    assert err.code == "age_implausible"
    assert "15" in str(err)


def test_failure_table_is_covered_by_tests() -> None:
    assert set(FAILING) | {"age_implausible"} == set(FAILURES)
    indonesian = translator("id")
    for msgid in FAILURES.values():
        assert indonesian(msgid) != msgid


def test_failures_are_kiosk_input_errors() -> None:
    err = fail("123")
    assert isinstance(err, NikError)
    assert isinstance(err, InputError)
    assert isinstance(err, ValueError)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("123", "3 angka"),
        ("35100145O7850001", "angka 0?"),
        ("3510014507850OO1", "'O'"),
        ("35100145x7850001", "'x'"),
        ("3599014507850001", "Jawa Timur"),
        ("3510994507850001", "Banyuwangi"),
        ("3510013507850001", "(35)"),
        ("3510014513850001", "(13)"),
    ],
)
def test_messages_say_what_is_wrong(text: str, fragment: str) -> None:
    assert fragment in fail(text).message(translator("id"))


def test_day_between_men_and_women_ranges_is_rejected() -> None:
    for day in ("00", "32", "40", "72", "99"):
        assert fail(f"351001{day}0785" + "0001").code == "day_invalid"


def test_woman_day_beyond_month_is_a_bad_date() -> None:
    # 71 - 40 = 31 April
    assert fail("3510017104850001").code == "date_invalid"


def test_first_failure_left_to_right_wins() -> None:
    # unknown province and zero serial: the province is reported
    assert fail("9701014507850000").code == "province_unknown"


# --- century ----------------------------------------------------------------------------------
def test_future_reading_is_dropped() -> None:
    # 1 Dec 26 is after today (29 Nov 2026): only 1926 remains
    info = parse_nik("3510010112260001", TODAY)
    assert info.birth_date == dt.date(1926, 12, 1)


def test_too_old_reading_is_dropped() -> None:
    info = parse_nik("3510010101100001", TODAY)
    assert info.birth_date == dt.date(2010, 1, 1)


def test_ambiguous_century_lists_both_and_can_be_settled() -> None:
    info = parse_nik("3510010101200001", TODAY)
    assert info.ambiguous_century
    assert info.birth_date is None
    assert info.birth_date_candidates == (dt.date(1920, 1, 1), dt.date(2020, 1, 1))
    settled = info.with_birth_date(dt.date(1920, 1, 1))
    assert settled.birth_date == dt.date(1920, 1, 1)
    assert not settled.ambiguous_century
    with pytest.raises(ValueError):
        info.with_birth_date(dt.date(1921, 1, 1))


def test_min_age_removes_needless_question() -> None:
    info = parse_nik("3510010101200001", TODAY, min_age=17)
    assert info.birth_date == dt.date(1920, 1, 1)
    assert not info.ambiguous_century


def test_leap_day_exists_only_in_one_century() -> None:
    # 29 Feb 2000 exists, 29 Feb 1900 does not
    info = parse_nik("3510012902000001", TODAY)
    assert info.birth_date_candidates == (dt.date(2000, 2, 29),)


def test_today_is_injected() -> None:
    # the same NIK is ambiguous or not depending on the date given
    text = "3510010101270001"
    assert parse_nik(text, dt.date(2026, 1, 1)).birth_date == dt.date(1927, 1, 1)
    assert parse_nik(text, dt.date(2027, 6, 1)).ambiguous_century


# --- region table injection: district check switches off without district data ---------------
def test_district_check_switches_on_only_with_district_data() -> None:
    no_districts = RegionTable.from_csv_text("code,name\n35,Jawa Timur\n3510,Kab. Banyuwangi\n")
    assert not no_districts.has_districts
    info = parse_nik("3510994507850001", TODAY, regions=no_districts)
    assert info.district_name is None
    assert info.district_code == "351099"
    with_districts = RegionTable.from_csv_text(
        "code,name\n35,Jawa Timur\n3510,Kab. Banyuwangi\n351001,Pesanggaran\n"
    )
    with pytest.raises(NikInvalid) as err:
        parse_nik("3510994507850001", TODAY, regions=with_districts)
    assert err.value.code == "district_unknown"


# --- masking and normalising ------------------------------------------------------------------
def test_mask_hides_the_middle() -> None:
    assert mask_nik(WOMAN) == "3510********0001"
    assert mask_nik("3510 0145 0785 0001") == "3510********0001"
    assert mask_nik("12345") == "*****"


def test_normalise_rejects_letters_and_blank() -> None:
    with pytest.raises(NikInvalid, match="'x'"):
        normalise_nik("35x")
    with pytest.raises(NikInvalid) as lookalike:
        normalise_nik("35l0")
    assert lookalike.value.code == "lookalike_letter"
    assert lookalike.value.params == {"char": "l", "digit": "1"}
    with pytest.raises(NikInvalid) as err:
        normalise_nik("")
    assert err.value.code == "empty"


def test_full_width_and_other_script_digits_are_rejected() -> None:
    assert fail("３５１００１４５０７８５０００１").code == "bad_character"
    assert fail("٣٥١٠٠١٤٥٠٧٨٥٠٠٠١").code == "bad_character"


def test_to_dict_is_json_ready() -> None:
    d = parse_nik("3510010101200001", TODAY).to_dict()
    assert d["birth_date"] is None
    assert d["birth_date_candidates"] == ["1920-01-01", "2020-01-01"]
    assert d["ambiguous_century"] is True
    assert d["district"] == {"code": "351001", "name": "Pesanggaran"}


# --- property tests ---------------------------------------------------------------------------
_TABLE = load_table()
_DISTRICTS = _TABLE.codes("district")


@st.composite
def valid_niks(draw: st.DrawFn) -> tuple[str, dt.date, str]:
    """A valid NIK built from a real district, a birth date and a non-zero serial."""
    district = draw(st.sampled_from(_DISTRICTS))
    born = draw(st.dates(min_value=dt.date(1930, 1, 1), max_value=TODAY))
    sex = draw(st.sampled_from(["F", "M"]))
    serial = draw(st.integers(min_value=1, max_value=9999))
    day = born.day + (nikmod.FEMALE_DAY_OFFSET if sex == "F" else 0)
    text = f"{district}{day:02d}{born.month:02d}{born.year % 100:02d}{serial:04d}"
    return text, born, sex


@settings(max_examples=300, deadline=None)
@given(valid_niks(), st.sampled_from(["", " ", ".", "-"]))
def test_generated_valid_niks_round_trip(case: tuple[str, dt.date, str], sep: str) -> None:
    text, born, sex = case
    typed = sep.join([text[:6], text[6:12], text[12:]])
    info = parse_nik(typed, TODAY)
    assert isinstance(info, NikInfo)
    assert info.nik == text
    assert born in info.birth_date_candidates
    assert info.sex == sex
    assert info.district_code == text[:6]
    assert info.district_name == _TABLE.district(text[:6]).name  # type: ignore[union-attr]
    if not info.ambiguous_century:
        assert info.birth_date == born


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=24))
def test_any_text_is_parsed_or_rejected_with_a_known_code(text: str) -> None:
    try:
        parse_nik(text, TODAY)
    except NikInvalid as err:
        assert err.code in FAILURES
        assert str(err)


# --- NIKs issued before the 2022 Papua split keep their old regency codes -------------------
@pytest.mark.parametrize(
    ("text", "province", "regency", "district"),
    [
        ("9101014507850001", "Papua Selatan", "Kabupaten Merauke", "Merauke"),
        ("9209050101800002", "Papua Barat Daya", "Kabupaten Tambrauw", "Sausapor"),
        ("9271010101800003", "Papua Barat Daya", "Kota Sorong", None),
        ("9104010101800004", "Papua Tengah", "Kabupaten Nabire", None),
    ],
)
def test_pre_split_papua_niks_resolve_to_todays_regions(
    text: str, province: str, regency: str, district: str | None
) -> None:
    info = parse_nik(text, TODAY)
    assert info.province_name == province
    assert info.regency_name == regency
    assert info.renumbered
    assert info.nik_region_code == text[:6]
    assert info.district_code == info.regency_code + text[4:6]
    if district is not None:
        assert info.district_name == district
    assert info.to_dict()["renumbered"] is True


def test_unchanged_papua_code_is_not_renumbered() -> None:
    info = parse_nik("9103010101800001", TODAY)  # Kabupaten Jayapura kept 91.03
    assert info.province_name == "Papua"
    assert not info.renumbered


def test_pre_split_code_with_unknown_district_is_rejected() -> None:
    err = fail("9101994507850001")
    assert err.code == "district_unknown"
    assert "Merauke" in str(err)


def test_unmapped_retired_code_is_rejected() -> None:
    # 92.13 never existed in Papua Barat
    assert fail("9213014507850001").code == "regency_unknown"


def test_an_injected_empty_table_is_used_not_replaced() -> None:
    empty = RegionTable.from_csv_text("code,name\n")
    assert len(empty) == 0
    assert fail(WOMAN, regions=empty).code == "province_unknown"
