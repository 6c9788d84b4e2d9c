"""Move inline ``{"id": ..., "en": ...}`` text pairs into the catalogues (a merge helper).

Older branches wrote form/consent texts and core messages as (Indonesian, English) pairs. This
rewrites each pair in the given JSON files as its English msgid and records the Indonesian in
``ui/translations/id/LC_MESSAGES/messages.po``; then run extract / update (docs/ui.md),
translate the new msgids in the other languages, and compile::

    /work/main/.venv/bin/python scripts/i18n_pairs.py kiosk/core/forms/household_v1.json
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

PAIR = re.compile(r'\{\s*"id":\s*("(?:[^"\\]|\\.)*"),\s*"en":\s*("(?:[^"\\]|\\.)*")\s*\}')
ID_PO = Path(__file__).resolve().parents[1] / "ui/translations/id/LC_MESSAGES/messages.po"


def convert(text: str, found: dict[str, str]) -> str:
    """``text`` with every pair replaced by its English string; pairs go into ``found``."""

    def one(m: re.Match[str]) -> str:
        indonesian, english = json.loads(m.group(1)), json.loads(m.group(2))
        found[english] = indonesian
        return json.dumps(english, ensure_ascii=False)

    return PAIR.sub(one, text)


def record(found: dict[str, str], po: Path = ID_PO) -> None:
    """Add each English msgid with its Indonesian translation to the Indonesian catalogue."""
    with po.open("rb") as fh:
        cat: Catalog = read_po(fh)
    for english, indonesian in found.items():
        if english in cat and cat[english].string:
            continue
        cat.add(english, indonesian)
    with po.open("wb") as fh:
        write_po(fh, cat, width=76)


def main(paths: list[str]) -> int:
    """Convert the files named on the command line."""
    found: dict[str, str] = {}
    for name in paths:
        path = Path(name)
        path.write_text(convert(path.read_text("utf-8"), found), "utf-8")
    record(found)
    print(f"{len(found)} text(s) moved into {ID_PO}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
