"""``kiosk nik``: text and JSON output, exit codes, the NIK masked in output."""

from __future__ import annotations

import argparse
import json

import pytest

from kiosk.commands import nik as nik_command

WOMAN = "3510014507850001"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """Parse ``argv`` with a parser holding only the ``nik`` sub-command and run it."""
    parser = argparse.ArgumentParser(prog="kiosk")
    nik_command.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["nik", *argv, "--today", "2026-11-29"])
    rc = args.handler(args)
    return rc, capsys.readouterr().out


def test_valid_nik_prints_fields(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out = run(capsys, "3510 0145 0785 0001")
    assert rc == 0
    assert "Jawa Timur" in out
    assert "Kabupaten Banyuwangi" in out
    assert "Pesanggaran" in out
    assert "1985-07-05" in out
    assert "perempuan" in out
    assert "3510********0001" in out
    assert WOMAN not in out


def test_valid_nik_json(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out = run(capsys, WOMAN, "--json")
    assert rc == 0
    obj = json.loads(out)
    assert obj["valid"] is True
    assert obj["province"] == {"code": "35", "name": "Jawa Timur"}
    assert obj["birth_date"] == "1985-07-05"
    assert obj["sex"] == "F"
    assert obj["nik_masked"] == "3510********0001"
    assert "nik" not in obj
    assert "reason" not in obj


def test_invalid_nik_json_has_reason(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out = run(capsys, "3510014507850000", "--json")
    assert rc == 1
    obj = json.loads(out)
    assert obj == {
        "valid": False,
        "code": "serial_zero",
        "reason": obj["reason"],
        "reason_en": obj["reason_en"],
    }
    assert "0000" in obj["reason"]
    assert "never 0000" in obj["reason_en"]


def test_invalid_nik_text_in_english(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out = run(capsys, "123", "--lang", "en")
    assert rc == 1
    assert "invalid NIK" in out
    assert "you typed only 3" in out


def test_ambiguous_century_is_shown(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out = run(capsys, "3510010101200001", "--lang", "en")
    assert rc == 0
    assert "1920-01-01 / 2020-01-01" in out
    assert "ambiguous" in out


def test_min_age_settles_the_century(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out = run(capsys, "3510010101200001", "--json", "--min-age", "17")
    assert rc == 0
    assert json.loads(out)["birth_date"] == "1920-01-01"


def test_bad_today_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="kiosk")
    nik_command.register(parser.add_subparsers(dest="command"))
    with pytest.raises(SystemExit) as err:
        parser.parse_args(["nik", WOMAN, "--today", "29-11-2026"])
    assert err.value.code == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err


def test_former_papua_code_is_explained(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out = run(capsys, "9101014507850001", "--lang", "en")
    assert rc == 0
    assert "93 Papua Selatan" in out
    assert "9301 Kabupaten Merauke" in out
    assert "910101 is a former code" in out
