"""USB path benchmark: export rate (records/s, with an fsync per file), portal import rate
(verify + decrypt + store) and ack-file import rate, for a sealed backlog of N records.

    /work/main/.venv/bin/python bench/bench_usb.py [--records 2000] [--stick DIR]

The stick defaults to a temp folder on the same disk; pass the mount point of a real stick
to measure one (an fsync on a USB 2 stick costs far more than on an SSD). JSON line on stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.fixtures.records import bulk_registrations  # noqa: E402
from tests.fixtures.usb import bring_acks_home, export, make_portal, offline_kiosk  # noqa: E402


def main() -> int:
    """Run once and print the figures."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--records", type=int, default=2000)
    p.add_argument("--stick", type=Path, default=None)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        portal = make_portal(base / "portal")
        cfg = offline_kiosk(base, portal)
        if args.stick is not None:
            cfg = cfg.model_copy(
                update={"usb": cfg.usb.model_copy(update={"mount_point": args.stick})}
            )
        bulk_registrations(cfg, args.records)
        t0 = time.perf_counter()
        done = export(cfg)
        t1 = time.perf_counter()
        [report] = [
            r for r in portal.import_stick(cfg.usb.mount_point) if r.export_id == done.export_id
        ]
        t2 = time.perf_counter()
        back = bring_acks_home(cfg)
        t3 = time.perf_counter()
        portal.store.close()
        assert done.count == report.stored == back.acked == args.records
        print(
            json.dumps(
                {
                    "records": args.records,
                    "bytes": done.bytes,
                    "export_per_s": round(args.records / (t1 - t0)),
                    "portal_import_per_s": round(args.records / (t2 - t1)),
                    "ack_import_per_s": round(args.records / (t3 - t2)),
                }
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
