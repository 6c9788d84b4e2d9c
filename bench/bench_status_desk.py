"""The status desk on PostgreSQL: what its indexes cost the ingest, and how fast it answers.

    /work/main/.venv/bin/python bench/bench_status_desk.py [--registrations 20000] [--queries 500]

Starts PostgreSQL on loopback (tests/fixtures/postgres.py), then:

1. writes ``--registrations`` registrations through the ingest store (batches of 512, one
   transaction each, as the workers write them) into a database migrated up to the one before
   ``*_status_desk.sql`` (no status desk) and into one up to it (the desk's receipt and
   registration-id indexes on ``record``; later migrations left out of both), and reports the
   wall time per record of each (PostgreSQL's own work: the Python side is the same in both);
2. answers ``--queries`` status requests (signed replies, the digest computed by PostgreSQL on
   the rows the receipt index picks, the query counted in the workers' shared ``query_count``)
   against the full table: p50 / p95 per answer, per lookup and per count.

Timing on a shared 2-core machine is noisy: compare the two write figures of one run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import psycopg  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

from kiosk.core.ids import receipt_code, uuid7  # noqa: E402
from kiosk.core.portal_status import nik_digest  # noqa: E402
from portal.ingest.migrate import MIGRATIONS, migrate  # noqa: E402
from portal.ingest.postgres import PostgresIngestStore  # noqa: E402
from portal.ingest.store import Batch  # noqa: E402
from portal.queries import QueryLimit, open_counters  # noqa: E402
from portal.status_book import open_book  # noqa: E402
from portal.status_desk import StatusDesk  # noqa: E402
from portal.store import Incoming  # noqa: E402
from tests.fixtures.postgres import PgServer  # noqa: E402

BATCH = 512


def registrations(n: int) -> list[tuple[Incoming, str, str]]:
    """``n`` registrations from 100 kiosks: (record, NIK, receipt code)."""
    out = []
    now = time.time()
    for i in range(n):
        rid = uuid7(now + i / 1000, os.urandom(10))
        nik = f"35100145079{i:05d}"
        code = receipt_code(os.urandom(8))
        record = {
            "record_id": rid,
            "nik": nik,
            "receipt_no": code,
            "village_code": "3510012001",
            "registration": {"id": rid, "version": 1},
            "verification": {"outcome": "pending", "attempts": 1},
            "answers": {"household_size": 3},
            "clock": {"wall": now, "monotonic": 1.0, "boot_id": "b", "synced": True},
        }
        out.append((Incoming(f"kiosk-{i % 100:03d}", rid, "registration", record), nik, code))
    return out


def write_all(dsn: str, items: list[tuple[Incoming, str, str]]) -> float:
    """Seconds per record to write ``items`` through the ingest store, batch by batch."""
    store = PostgresIngestStore(dsn)
    try:
        started = time.perf_counter()
        for first in range(0, len(items), BATCH):
            b = Batch(time.time())
            for inc, _nik, _code in items[first : first + BATCH]:
                b.add(inc)
            store.write(b)
        return (time.perf_counter() - started) / len(items)
    finally:
        store.close()


def database(server: PgServer, name: str, upto: int | None) -> str:
    """A fresh database migrated to ``upto`` (None: every migration)."""
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    dsn = server.dsn.replace("dbname=postgres", f"dbname={name}")
    if upto is not None:
        part = Path(tempfile.mkdtemp(prefix="migrations-"))
        for path in sorted(MIGRATIONS.glob("*.sql"))[:upto]:
            shutil.copy(path, part / path.name)
        with psycopg.connect(dsn, autocommit=True) as conn:
            migrate(conn, part)
        shutil.rmtree(part)
    return dsn


def main(argv: list[str] | None = None) -> int:
    """Run both measurements and print them."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--registrations", type=int, default=20000)
    ap.add_argument("--queries", type=int, default=500)
    args = ap.parse_args(argv)
    server = PgServer()
    server.start()
    try:
        items = registrations(args.registrations)
        names = sorted(p.name for p in MIGRATIONS.glob("*.sql"))
        before = next(i for i, name in enumerate(names) if name.endswith("_status_desk.sql"))
        costs: dict[str, list[float]] = {"without the desk": [], "with the desk": []}
        for n in range(2):  # alternating, so neither always runs on a warmer server
            for label in sorted(costs, reverse=bool(n)):
                upto = before if label == "without the desk" else before + 1
                costs[label].append(write_all(database(server, f"db_{n}_{upto}", upto), items))
        for label, got in costs.items():
            runs = ", ".join(f"{c * 1e3:.3f}" for c in got)
            print(f"write, {label}: {runs} ms/record (two runs)")
        with_desk = server.dsn.replace("dbname=postgres", f"dbname=db_1_{before + 1}")
        key = Ed25519PrivateKey.generate()
        limit = QueryLimit(open_counters("postgres", with_desk), per_window=10**9)  # a worker's
        desk = StatusDesk(open_book("postgres", with_desk), key, limit=limit)
        times, lookups, counts = [], [], []
        for i in range(args.queries):
            _inc, nik, code = items[(i * 7919) % len(items)]
            request = {
                "v": 1,
                "request_id": uuid7(time.time(), os.urandom(10)),
                "device_id": "kiosk-999",
                "nik_digest": nik_digest(nik),
                "receipt_no": code,
                "requested_at": time.time(),
            }
            t0 = time.perf_counter()
            desk.answer("kiosk-999", request)
            t1 = time.perf_counter()
            desk.book.lookup(request["nik_digest"], code)
            t2 = time.perf_counter()
            limit.admit("status", f"kiosk-{i % 100:03d}")
            times.append(t1 - t0)
            lookups.append(t2 - t1)
            counts.append(time.perf_counter() - t2)
        desk.close()
        limit.close()
        for what, got in (
            ("answer (checked, counted, looked up, signed)", times),
            ("lookup", lookups),
            ("shared query count (one upsert)", counts),
        ):
            p50, p95 = statistics.median(got) * 1e3, statistics.quantiles(got, n=20)[18] * 1e3
            print(f"{what} over {len(items)} registrations: p50 {p50:.2f} ms, p95 {p95:.2f} ms")
    finally:
        server.remove()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
