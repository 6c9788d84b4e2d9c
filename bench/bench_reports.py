"""Bench the recipient list and the meeting report: the largest list the schema allows
(10,000 households) signed, checked and installed; one page of it by dusun; a year of
tallies summed; the meeting report rendered as receipt lines and as a PDF.

Reports milliseconds (p50/max) and the list's size in bytes.

    python bench/bench_reports.py [--rounds 5] [--households 10000] [--json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import emit, samples_ms
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.core.clock import FakeClock
from kiosk.core.tally import Count, registration_counts
from kiosk.crypto.atrest import AtRestCipher
from kiosk.reports import meeting
from kiosk.reports.recipients import RecipientStore, page_of, parse_list, sign_list
from kiosk.store import tally
from kiosk.store.db import connect, transaction

VILLAGE = "3510012001"
DUSUN = [f"Dusun {i}" for i in range(8)]


def timed(fn: Callable[[], Any], rounds: int) -> dict[str, float]:
    """p50 and max of ``rounds`` calls, milliseconds."""
    times = samples_ms(fn, rounds)
    return {"p50_ms": round(statistics.median(times), 2), "max_ms": round(max(times), 2)}


def main(argv: list[str] | None = None) -> int:
    """Run the bench and print the figures."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--households", type=int, default=10_000)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    key = Ed25519PrivateKey.generate()
    body = {
        "village_code": VILLAGE,
        "list_version": 1,
        "issued_at": 1_780_000_000,
        "dusun": DUSUN,
        "households": [
            {
                "ref": f"R{i:06d}",
                "name": f"Kepala Keluarga Nomor {i}",
                "dusun": DUSUN[i % len(DUSUN)],
                "rt": str(1 + i % 12),
                "programmes": ["pkh", "bpnt"] if i % 3 else ["pbi_jk"],
            }
            for i in range(args.households)
        ],
    }
    payload = sign_list(body, key)
    out: dict[str, Any] = {"households": args.households, "list_bytes": len(payload)}
    trusted = [key.public_key()]
    out["parse_and_verify"] = timed(
        lambda: parse_list(payload, trusted=trusted, village_code=VILLAGE), args.rounds
    )
    lst = parse_list(payload, trusted=trusted, village_code=VILLAGE)
    with tempfile.TemporaryDirectory() as tmp:
        conn = connect(Path(tmp) / "kiosk.sqlite3")
        store = RecipientStore(conn, AtRestCipher(os.urandom(32)), FakeClock())
        out["install_sealed"] = timed(lambda: store.replace(lst), args.rounds)
        out["open_sealed"] = timed(
            lambda: RecipientStore(conn, store._cipher, FakeClock()).current(VILLAGE), args.rounds
        )
        out["page_by_dusun"] = timed(lambda: page_of(lst.households, 3, DUSUN[2]), args.rounds)
        clock = FakeClock()
        with transaction(conn) as c:  # a busy year: 20 registrations a day
            for day in range(365):
                for n in range(20):
                    counts = registration_counts(
                        {"dusun": DUSUN[n % 8], "programmes_requested": ["pkh", "pip"]},
                        "verified",
                        1,
                    )
                    tally.add(c, clock.now() + day * 86400, [*counts, Count("record:x")])
        first = dt.datetime.fromtimestamp(clock.now(), tz=dt.UTC).date()
        last = first + dt.timedelta(days=364)
        out["tally_year_sum"] = timed(lambda: tally.totals(conn, first, last), args.rounds)
        totals = tally.totals(conn, first, last)
        report = meeting.build(totals, str, village=VILLAGE, made_at=dt.datetime(2026, 1, 1))
        out["receipt_lines"] = timed(lambda: meeting.receipt_lines(report), args.rounds)
        out["render_pdf"] = timed(lambda: meeting.render_pdf(report), args.rounds)
        out["pdf_bytes"] = len(meeting.render_pdf(report))
        conn.close()
    emit(out, args.json, width=18)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
