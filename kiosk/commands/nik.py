"""``kiosk nik NIK [--json]``: check a NIK and print its fields or why it is invalid.

For agents and technicians. The output shows the NIK masked (``3510********0001``); the full
number is never printed or logged. Exit status 0 when valid, 1 when invalid.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from typing import Any

from kiosk import languages
from kiosk.core.i18n import N_
from kiosk.core.nik import NikInfo, NikInvalid, mask_nik, parse_nik
from kiosk.languages import translator

EXIT_VALID, EXIT_INVALID = 0, 1

SEX_LABEL = {"F": N_("female"), "M": N_("male")}
TEXT_LABELS: dict[str, str] = {
    "valid": N_("valid NIK"),
    "invalid": N_("invalid NIK"),
    "province": N_("Province"),
    "regency": N_("Regency/city"),
    "district": N_("District"),
    "birth_date": N_("Date of birth"),
    "ambiguous": N_("ambiguous century, choose one"),
    "sex": N_("Sex"),
    "serial": N_("Serial"),
    "no_district_data": N_("(no district data)"),
    "renumbered": N_("The NIK's region code %(code)s is a former code (before a split)"),
}
"""Label key -> msgid, translated with the catalogue of ``--lang``."""


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
    p.add_argument("--lang", choices=languages.CODES, default=languages.DEFAULT, help="language")
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
        "reason": err.message(translator(lang)),
        "reason_en": err.message(),
    }


def format_text(info: NikInfo, lang: str) -> str:
    """Human-readable lines for a valid NIK."""
    tr = translator(lang)
    lab = {k: tr(v) for k, v in TEXT_LABELS.items()}
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
        f"  {lab['sex']}: {tr(SEX_LABEL[info.sex])}",
        f"  {lab['serial']}: {info.serial}",
    ]
    if info.renumbered:
        lines.append("  " + lab["renumbered"] % {"code": info.nik_region_code})
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
            tr = translator(args.lang)
            print(f"{mask_nik(args.nik)}: {tr(TEXT_LABELS['invalid'])}")
            print(f"  {err.message(tr)}")
        return EXIT_INVALID
    if args.json:
        print(json.dumps(result_dict(info), ensure_ascii=False))
    else:
        print(format_text(info, args.lang))
    return EXIT_VALID
