"""Bench agent mode: PIN hash cost, one login (PIN + fake face), audit append and verify,
a roster save (seal + outbox + history + audit in one transaction), a portal merge.

Reports milliseconds (p50/p95/max). The face matcher is a double (camera and model time
belong to the vision section); the sealer is JSON (envelope cost belongs to the uplink).

    python bench/bench_agents.py [--rounds 30] [--audit 5000] [--json]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import emit, timed

from kiosk.agents import build_agent_service
from kiosk.agents.accounts import hash_pin
from kiosk.core.clock import FakeClock
from kiosk.crypto.atrest import AtRestCipher
from kiosk.crypto.fake import JsonSealer
from kiosk.store.db import connect, transaction
from tests.fixtures.community import roster_member

KK = "3510011203150001"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--rounds", type=int, default=30)
    p.add_argument("--audit", type=int, default=5000, help="audit entries for verify")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    clock = FakeClock()
    with tempfile.TemporaryDirectory() as tmp:
        conn = connect(Path(tmp) / "kiosk.sqlite3")
        svc = build_agent_service(
            conn=conn,
            cipher=AtRestCipher(os.urandom(32)),
            lookup_key=os.urandom(32),
            sealer=JsonSealer(),
            clock=clock,
            device_id="kiosk-bench-01",
            matcher=lambda template: "HIGH",
        )
        svc.accounts.enrol("AG-DW-01", "dasa_wisma", "Bu Sri", "246801", b"\x00" * 512)
        results: dict[str, Any] = {}
        salt = os.urandom(16)
        results["scrypt_pin_hash"] = timed(
            lambda: hash_pin("246801", salt, svc.accounts.params), args.rounds
        )
        results["login_pin_and_face"] = timed(lambda: svc.login("AG-DW-01", "246801"), args.rounds)
        token = svc.login("AG-DW-01", "246801")
        member = roster_member(illnesses=[])
        h = svc.save_household(token, {"kk": KK, "members": [member], "crops": ["rice"]})
        crops = [["rice"], ["corn"]]
        n = [0]

        def save() -> None:
            n[0] += 1
            clock.advance(1)
            svc.save_household(
                token,
                {
                    "household_id": h.household_id,
                    "kk": KK,
                    "members": [member],
                    "crops": crops[n[0] % 2],
                },
            )

        results["roster_save"] = timed(save, args.rounds)
        version = [1]

        def merge() -> None:
            version[0] += 1
            svc.apply_roster_update(
                {
                    "household_id": h.household_id,
                    "version": version[0],
                    "updated_at": clock.now() + 10,
                    "household": {
                        "household_id": h.household_id,
                        "kk": KK,
                        "cadre_id": "AG-DW-01",
                        "members": [member],
                        "crops": ["cassava"],
                    },
                }
            )

        results["portal_merge"] = timed(merge, args.rounds)
        results["audit_append"] = timed(lambda: svc.audit.record("help_requested"), args.rounds)
        with transaction(conn) as c:  # seed in one transaction (one fsync)
            for _ in range(args.audit - len(svc.audit.entries())):
                svc.audit.append(c, "help_requested", None, "r1")
        t = time.perf_counter()
        report = svc.verify_audit()
        results[f"audit_verify_{report.entries}_entries_ms"] = round(
            (time.perf_counter() - t) * 1000, 1
        )
        assert report.ok
        conn.close()
    results["machine"] = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load": os.getloadavg()[0],
        "scrypt": hashlib.scrypt is not None,
    }
    emit(results, args.json, width=40, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
