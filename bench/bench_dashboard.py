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
import os
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


def _backend_cpu(conn: psycopg.Connection[Any]) -> float:
    pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]  # type: ignore[index]
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def insert_cost(server: PgServer, n: int) -> None:
    """The workers' insert statement, batches of 512, into the 0001 schema and into 0001+0002."""
    import random
    import shutil
    import tempfile

    from portal.dashboard.demo import registration
    from portal.ingest.migrate import MIGRATIONS
    from portal.ingest.postgres import _INSERT_RECORDS
    from portal.ingest.store import dumps

    rng = random.Random(1)
    now = time.time()
    rows = [
        registration(rng, "kiosk-a", "3510012001", now - i, f"{3510010101000000 + i}",
                     "verified", i % 2 == 0, 1 + i % 3)
        for i in range(n)
    ]  # fmt: skip
    only_first = Path(tempfile.mkdtemp())
    shutil.copy(MIGRATIONS / "0001_portal.sql", only_first)
    for label, directory in (("0001 only", only_first), ("0001 + 0002", MIGRATIONS)):
        name = "ins_" + label.replace(" ", "").replace("+", "_")
        with psycopg.connect(server.dsn, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        dsn = server.dsn.replace("dbname=postgres", f"dbname={name}")
        with psycopg.connect(dsn, autocommit=True) as conn:
            migrate(conn, directory)
            cpu0 = _backend_cpu(conn)
            for i in range(0, n, 512):
                part = rows[i : i + 512]
                with conn.transaction():
                    conn.execute(
                        _INSERT_RECORDS,
                        (now, [r.device_id for r in part], [r.record_id for r in part],
                         [r.kind for r in part], [dumps(r.record) for r in part],
                         [r.record["clock"]["wall"] for r in part]),
                    )  # fmt: skip
            cpu = _backend_cpu(conn) - cpu0
        print(f"{label}: {n} records, PostgreSQL backend CPU {cpu * 1000 / n:.4f} ms per record")
    shutil.rmtree(only_first)


def main(argv: list[str] | None = None) -> int:
    """Fill, then time the three levels' reports."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--records", type=int, default=350_000)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--explain", action="store_true", help="print each query's plan (regency)")
    p.add_argument(
        "--insert-cost", type=int, metavar="N", default=0,
        help="instead: PostgreSQL CPU per inserted record with and without migration 0002",
    )  # fmt: skip
    args = p.parse_args(argv)
    server = PgServer(fsync=False)
    server.start()
    if args.insert_cost:
        try:
            insert_cost(server, args.insert_cost)
        finally:
            server.remove()
        return 0
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
