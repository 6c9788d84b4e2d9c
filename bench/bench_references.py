"""Benchmark the village reference set: message size, validate + install time, lookup latency.

    python bench/bench_references.py [--residents 5000] [--lookups 2000] [--json]

Synthetic residents (random unit templates, structurally valid NIKs), a real SQLite file in a
temporary directory (WAL, synchronous=FULL) and the real AES-GCM at-rest cipher. Results go to
docs/PERFORMANCE.md, section "Identity references".
"""

from __future__ import annotations

import argparse
import os
import statistics
import struct
import tempfile
import time
from pathlib import Path

from _common import emit, quantile
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.core.clock import SystemClock
from kiosk.crypto.atrest import AtRestCipher
from kiosk.crypto.signed import sign_message
from kiosk.references.message import (
    ReferenceEntry,
    parse_reference_set,
    reference_set_body,
)
from kiosk.references.store import ReferenceStore
from kiosk.store.db import connect

VILLAGE = "3510012001"


def _template(rng: bytes) -> bytes:
    values = [((b - 127.5) / 127.5) or 0.01 for b in rng[:128]]
    return b"KFT1" + struct.pack("<128f", *values)


def _entries(n: int) -> list[ReferenceEntry]:
    return [
        ReferenceEntry(
            f"351001{(i % 28) + 1:02d}{(i % 12) + 1:02d}80{i + 1:04d}",
            f"{VILLAGE}{i:06d}",
            "A.B.",
            _template(os.urandom(128)),
        )
        for i in range(n)
    ]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a table (or JSON)."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--residents", type=int, default=5000)
    p.add_argument("--lookups", type=int, default=2000)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    key = Ed25519PrivateKey.generate()
    clock = SystemClock()
    entries = _entries(args.residents)
    now = int(clock.now())
    t0 = time.perf_counter()
    payload = sign_message(
        reference_set_body(
            village_code=VILLAGE, version=1, issued_at=now, expires_at=now + 86400, entries=entries
        ),
        key,
    )
    build_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        store = ReferenceStore(
            connect(Path(tmp) / "kiosk.sqlite3"), AtRestCipher(os.urandom(32)), clock
        )
        t0 = time.perf_counter()
        refs = parse_reference_set(
            payload, trusted=key.public_key(), village_code=VILLAGE, now=clock.now()
        )
        validate_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        store.replace(refs)
        install_s = time.perf_counter() - t0
        hits: list[float] = []
        misses: list[float] = []
        for i in range(args.lookups):
            nik = entries[i % len(entries)].nik if i % 2 == 0 else f"35100199{i:08d}"
            t0 = time.perf_counter()
            found = store.lookup(nik)
            (hits if found is not None else misses).append((time.perf_counter() - t0) * 1000)
        db_bytes = sum(f.stat().st_size for f in Path(tmp).iterdir())
    result = {
        "residents": args.residents,
        "message_bytes": len(payload),
        "sign_s": round(build_s, 3),
        "validate_s": round(validate_s, 3),
        "install_s": round(install_s, 3),
        "lookup_hit_ms_p50": round(statistics.median(hits), 3),
        "lookup_hit_ms_p95": round(quantile(hits, 0.95), 3),
        "lookup_miss_ms_p50": round(statistics.median(misses), 3),
        "lookup_miss_ms_p95": round(quantile(misses, 0.95), 3),
        "db_bytes": db_bytes,
    }
    emit(result, args.json, width=20, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
