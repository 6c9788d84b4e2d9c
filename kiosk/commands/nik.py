"""``kiosk nik NIK [--json]``: check a NIK and print its fields or why it is invalid.

For agents and technicians. The output shows the NIK masked (``3510********0001``); the full
number is never printed or logged. Exit status 0 when valid, 1 when invalid.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from typing import Any

from kiosk.core.nik import NikInfo, NikInvalid, mask_nik, parse_nik

EXIT_VALID, EXIT_INVALID = 0, 1

SEX_LABEL = {"id": {"F": "perempuan", "M": "laki-laki"}, "en": {"F": "female", "M": "male"}}
TEXT_LABELS: dict[str, dict[str, str]] = {
    "id": {
        "valid": "NIK sah",
        "invalid": "NIK tidak sah",
        "province": "Provinsi",
        "regency": "Kabupaten/kota",
        "district": "Kecamatan",
        "birth_date": "Tanggal lahir",
        "ambiguous": "belum pasti, pilih salah satu",
        "sex": "Jenis kelamin",
        "serial": "Nomor urut",
        "no_district_data": "(data kecamatan tidak tersedia)",
        "renumbered": "Kode wilayah di NIK {code} adalah kode lama (sebelum pemekaran)",
    },
    "en": {
        "valid": "valid NIK",
        "invalid": "invalid NIK",
        "province": "Province",
        "regency": "Regency/city",
        "district": "District",
        "birth_date": "Date of birth",
        "ambiguous": "ambiguous century, choose one",
        "sex": "Sex",
        "serial": "Serial",
        "no_district_data": "(no district data)",
        "renumbered": "The NIK's region code {code} is a former code (before a split)",
    },
}


def _date(text: str) -> dt.date:
    """``YYYY-MM-DD`` -> date, for ``--today``."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {text!r}") from err


def register(sub: Any) -> None:
    """Add the ``nik`` sub-command."""
    p = sub.add_parser("nik", help="check a NIK and show its region, birth date and sex")
    p.add_argument("nik", metavar="NIK", help="16 digits; spaces, dots and dashes allowed")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--lang", choices=("id", "en"), default="id", help="message language")
    p.add_argument(
        "--today", type=_date, default=None, help="date used to choose the century (YYYY-MM-DD)"
    )
    p.add_argument("--min-age", type=int, default=0, help="youngest plausible age in years")
    p.set_defaults(handler=run)


def result_dict(info: NikInfo) -> dict[str, Any]:
    """The JSON object for a valid NIK: ``valid`` true, the fields, NIK masked."""
    fields = info.to_dict()
    fields.pop("nik")
    return {"valid": True, "nik_masked": mask_nik(info.nik), **fields}


def failure_dict(err: NikInvalid, lang: str) -> dict[str, Any]:
    """The JSON object for an invalid NIK: ``valid`` false, ``code`` and ``reason``."""
    return {
        "valid": False,
        "code": err.code,
        "reason": err.message("en" if lang == "en" else "id"),
        "reason_en": err.message("en"),
    }


def format_text(info: NikInfo, lang: str) -> str:
    """Human-readable lines for a valid NIK."""
    lab = TEXT_LABELS[lang]
    if info.birth_date is not None:
        born = info.birth_date.isoformat()
    else:
        choices = " / ".join(d.isoformat() for d in info.birth_date_candidates)
        born = f"{choices} ({lab['ambiguous']})"
    district = info.district_name or lab["no_district_data"]
    lines = [
        f"{mask_nik(info.nik)}: {lab['valid']}",
        f"  {lab['province']}: {info.province_code} {info.province_name}",
        f"  {lab['regency']}: {info.regency_code} {info.regency_name}",
        f"  {lab['district']}: {info.district_code} {district}",
        f"  {lab['birth_date']}: {born}",
        f"  {lab['sex']}: {SEX_LABEL[lang][info.sex]}",
        f"  {lab['serial']}: {info.serial}",
    ]
    if info.renumbered:
        lines.append("  " + lab["renumbered"].format(code=info.nik_region_code))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Handle ``kiosk nik``; returns 0 for a valid NIK, 1 for an invalid one."""
    today = args.today or dt.date.today()
    try:
        info = parse_nik(args.nik, today, min_age=args.min_age)
    except NikInvalid as err:
        if args.json:
            print(json.dumps(failure_dict(err, args.lang), ensure_ascii=False))
        else:
            print(f"{mask_nik(args.nik)}: {TEXT_LABELS[args.lang]['invalid']}")
            print(f"  {err.message('en' if args.lang == 'en' else 'id')}")
        return EXIT_INVALID
    if args.json:
        print(json.dumps(result_dict(info), ensure_ascii=False))
    else:
        print(format_text(info, args.lang))
    return EXIT_VALID
