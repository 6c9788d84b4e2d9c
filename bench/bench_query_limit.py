"""Bench the shared per-kiosk query limit on PostgreSQL (portal/queries.py, migration 0006).

Starts PostgreSQL on loopback with fsync on (tests/fixtures/postgres.py), migrates the portal
schema, then reports milliseconds (p50/p95/max) of one count (``PostgresCounters.take``, one
upsert) on the ``UNLOGGED`` table ``query_count``, and of the same upsert on a logged copy of
it (what each query would cost with a WAL write and fsync: why the table is unlogged), over
``--kiosks`` kiosks; then two workers (own connections, one thread each) counting one kiosk's
queries at once: how many of their ``--rounds`` each were admitted (must be the limit, once)
and the counts per second. Run:

    python bench/bench_query_limit.py [--rounds 400] [--kiosks 100] [--json]

Timing on a shared 2-core machine is noisy: compare the two tables of one run.
"""

from __future__ import annotations

import argparse
import itertools
import threading
import time

import psycopg
from _common import emit, timed

from portal.ingest.migrate import MIGRATIONS
from portal.queries import _TAKE, PostgresCounters, QueryLimit
from tests.fixtures.postgres import PgServer

ARGS = {"scope": "status", "window": 1, "ends": 1200.0, "limit": 10**9}
_DDL = next(MIGRATIONS.glob("*_query_limit.sql")).read_text(encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Run the measurements and print them."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json", action="store_true", help="one JSON object")
    ap.add_argument("--rounds", type=int, default=400, help="counts per figure")
    ap.add_argument("--kiosks", type=int, default=100, help="kiosks the counts cycle over")
    args = ap.parse_args(argv)
    server = PgServer()
    server.start()
    try:
        counters = PostgresCounters(server.dsn)  # migrates the schema
        logged = psycopg.connect(server.dsn, autocommit=True)
        logged.execute(
            _DDL.replace("CREATE UNLOGGED TABLE query_count", "CREATE TABLE logged_count").replace(
                "query_count_ends ON query_count", "logged_count_ends ON logged_count"
            )
        )
        take_logged = _TAKE.replace("query_count", "logged_count")
        devices = itertools.cycle([f"kiosk-{i:05d}" for i in range(args.kiosks)])
        result: dict[str, object] = {}
        for run in (1, 2):  # alternating, so neither always runs on a warmer server
            result[f"unlogged_take_ms_{run}"] = timed(
                lambda: counters.take("status", next(devices), 1, 1200.0, 10**9), args.rounds
            )
            result[f"logged_take_ms_{run}"] = timed(
                lambda: logged.execute(take_logged, {**ARGS, "device": next(devices)}),
                args.rounds,
            )
        limit = 25
        limits = [
            QueryLimit(PostgresCounters(server.dsn), per_window=limit, clock=lambda: 1e9)
            for _ in range(2)
        ]
        admitted = [0, 0]
        start = threading.Barrier(2)

        def worker(i: int) -> None:
            start.wait()
            for _ in range(args.rounds):
                admitted[i] += limits[i].admit("family", "kiosk-flood")

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
        began = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        took = time.perf_counter() - began
        result["two_workers"] = {
            "asked": 2 * args.rounds,
            "limit": limit,
            "admitted": admitted,
            "counts_per_s": round(2 * args.rounds / took),
        }
        for one in limits:
            one.close()
        counters.close()
        logged.close()
        emit(result, args.json, width=20)
    finally:
        server.remove()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
