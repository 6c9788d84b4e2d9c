"""Bench the pure NIK and questionnaire rules: region table load, NIK parse, answer checks.

Reports milliseconds (p50/p95/max) for: reading and indexing the Kemendagri region table
(7,837 rows plus the former-code map) from the installed package, one ``parse_nik`` on a
warm table, loading and checking ``household_v1.json``, checking one questionnaire page, and
building the review summary. Run:

    python bench/bench_nik.py [--rounds 200] [--json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import platform
import random
import sys
from typing import Any

from _common import timed

from kiosk.core import regions
from kiosk.core.forms import definition, load_form, summary, validate_answers
from kiosk.core.nik import parse_nik

TODAY = dt.date(2026, 11, 29)
FORM = "household_v1"
"""The questionnaire these answers fill (the figures in docs/PERFORMANCE.md are for it)."""
PAGE_ANSWERS = {"kk_number": "3510 0112 0315 0001"}  # the page holds the KK number only
ALL_ANSWERS: dict[str, Any] = {
    "kk_number": "3510011203150001",
    "members_count": 4,
    "children_count": 2,
    "elderly_count": 1,
    "pregnant": False,
    "main_work": "farmer",
    "income_band": "below_500k",
    "disability": True,
    "disability_kinds": ["visual"],
    "chronic_illness": False,
    "floor": "soil",
    "wall": "bamboo",
    "water": "open_well",
    "toilet": "shared",
    "lighting": "pln_450",
    "cooking_fuel": "firewood",
    "assets": ["motorcycle", "smartphone"],
    "livestock": ["poultry"],
    "shocks": ["crop_failure"],
    "programmes_received": ["none"],
    "programmes_requested": ["pkh", "bpnt"],
}


_timed_ms = functools.partial(timed, digits=4, suffix="_ms")


def _cold_table() -> object:
    regions.load_table.cache_clear()
    return regions.load_table()


def _cold_form() -> object:
    definition.load_form.cache_clear()
    return definition.load_form(FORM)


def main(argv: list[str] | None = None) -> int:
    """Run the bench and print a table (or JSON with ``--json``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200, help="calls per measure")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)

    table = regions.load_table()
    rng = random.Random(7)
    districts = table.codes("district")
    niks = [
        f"{rng.choice(districts)}{rng.randint(1, 28) + rng.choice((0, 40)):02d}"
        f"{rng.randint(1, 12):02d}{rng.randint(0, 99):02d}{rng.randint(1, 9999):04d}"
        for _ in range(args.rounds)
    ]
    it = iter(niks * 2)
    form = load_form(FORM)
    results = {
        "region_table_load (cold)": _timed_ms(_cold_table, max(10, args.rounds // 10)),
        "parse_nik (warm table)": _timed_ms(lambda: parse_nik(next(it), TODAY), args.rounds),
        "household_v1 load+check (cold)": _timed_ms(_cold_form, max(10, args.rounds // 10)),
        "validate_answers (family_card page)": _timed_ms(
            lambda: validate_answers(form, "family_card", PAGE_ANSWERS), args.rounds
        ),
        "summary (all 21 answers)": _timed_ms(lambda: summary(form, ALL_ANSWERS), args.rounds),
    }
    meta = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "rounds": args.rounds,
        "regions": len(table),
    }
    if args.json:
        print(json.dumps({"meta": meta, "results": results}, indent=2))
        return 0
    print(f"python {meta['python']} on {meta['machine']}, {meta['regions']} regions")
    print(f"{'measure':40} {'p50 ms':>10} {'p95 ms':>10} {'max ms':>10}")
    for name, r in results.items():
        print(f"{name:40} {r['p50_ms']:>10.3f} {r['p95_ms']:>10.3f} {r['max_ms']:>10.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
