"""Dashboard read cost at regency scale: one area page's queries over N registration records.

    /work/main/.venv/bin/python bench/bench_dashboard.py [--records 350000] [--rounds 3]

Starts PostgreSQL on loopback, applies the portal migrations, inserts ``--records`` registration
records shaped as the kiosk seals them (7 villages of the demo regency, 30 days, with NIKs)
in one set-based statement, ANALYZEs, then times ``queries.report`` for the regency, one
kecamatan and one village (best of ``--rounds``, wall seconds, the shared machine's noise
included).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import psycopg  # noqa: E402

from portal.dashboard.areas import Area  # noqa: E402
from portal.dashboard.demo import VILLAGES  # noqa: E402
from portal.dashboard.queries import Period, report  # noqa: E402
from portal.ingest.migrate import migrate  # noqa: E402
from tests.fixtures.postgres import PgServer  # noqa: E402

_FILL = """
INSERT INTO record (device_id, record_id, kind, record, received_at, created_at)
SELECT 'kiosk-' || v.code || '-01', 'r' || g, 'registration',
       jsonb_build_object(
         'village_code', v.code, 'nik', (3510010101000000 + g)::text,
         'registration', jsonb_build_object('id', 'r' || g, 'version', 1 + (g %% 20 = 0)::int),
         'verification', jsonb_build_object(
           'outcome', (ARRAY['verified', 'verified', 'verified', 'pending', 'vouched'])[1 + g %% 5],
           'attempts', 1 + g %% 3,
           'assisted_by', CASE WHEN g %% 10 < 7 THEN 'agent-1' END)),
       %(now)s, %(now)s - (g %% (30 * 86400))
FROM generate_series(1, %(n)s) AS g
JOIN (SELECT row_number() OVER () - 1 AS i, code FROM unnest(%(codes)s::text[]) AS code) v
  ON v.i = g %% %(k)s
"""


def explain(conn: psycopg.Connection[Any], period: Period, now: float) -> None:
    """EXPLAIN ANALYZE of each query of the regency page."""
    from portal.dashboard import queries

    t0, t1 = period.bounds()
    params = {"lo": "3510", "hi": "3511", "n": 6, "t0": t0, "t1": t1, "offset": 25200}
    for name in ("_REGISTRATIONS", "_SPOOFS", "_OBJECTIONS", "_KIOSKS"):
        sql = getattr(queries, name)
        rows = conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params).fetchall()
        print(f"--- {name}")
        print("\n".join(r[0] for r in rows))


def main(argv: list[str] | None = None) -> int:
    """Fill, then time the three levels' reports."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--records", type=int, default=350_000)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--explain", action="store_true", help="print each query's plan (regency)")
    args = p.parse_args(argv)
    server = PgServer(fsync=False)
    server.start()
    try:
        with psycopg.connect(server.dsn, autocommit=True) as conn:
            migrate(conn)
            now = time.time()
            t0 = time.perf_counter()
            codes = [c for c, _ in VILLAGES]
            conn.execute(_FILL, {"now": now, "n": args.records, "codes": codes, "k": len(codes)})
            conn.execute("ANALYZE record")
            print(f"inserted {args.records} registration records in "
                  f"{time.perf_counter() - t0:.1f} s")  # fmt: skip
            end = time.localtime(now)
            import datetime as dt

            last = dt.date(end.tm_year, end.tm_mon, end.tm_mday)
            period = Period(last - dt.timedelta(days=29), last)
            if args.explain:
                explain(conn, period, now)
            for code in ("3510", "351001", "3510012001"):
                best = float("inf")
                for _ in range(args.rounds):
                    t = time.perf_counter()
                    r = report(conn, Area(code), period, now)
                    best = min(best, time.perf_counter() - t)
                print(f"area {code}: {r.totals.records} records in period, "
                      f"report best of {args.rounds}: {best * 1000:.0f} ms")  # fmt: skip
    finally:
        server.remove()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
