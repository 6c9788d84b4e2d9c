"""Bench provisioning's slow parts: model pack install (copy + verify twice + swap) and the
offline self-test (camera, known-answer model tests, disk, data partition).

Reports seconds (median and max over ``--rounds``) on a fresh temporary data directory each
round, using the shared model pack beside the checkout. Run:

    python bench/bench_provisioning.py [--rounds 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kiosk.config import REPO_ROOT  # noqa: E402
from provisioning.context import Context  # noqa: E402
from provisioning.selftest import Probes, run_selftest  # noqa: E402
from provisioning.steps import run_step  # noqa: E402
from provisioning.tomlfile import update_config  # noqa: E402

PACK = REPO_ROOT.parent / "shared" / "models"


def one_round() -> dict[str, float]:
    """Seconds for one model install and one offline self-test."""
    with tempfile.TemporaryDirectory() as tmp:
        ctx = Context(Path(tmp) / "data", say=lambda _l: None)
        t0 = time.perf_counter()
        out = run_step(ctx, "models", {"source": PACK})
        t1 = time.perf_counter()
        assert out.status == "done", out.error
        update_config(ctx.layout.config, {"uplink": {"enabled": False},
                                          "camera": {"backend": "replay"},
                                          "gpio": {"pin_factory": "mock"}})  # fmt: skip
        run_selftest(ctx, Probes(clock_synchronised=lambda: True))
        t2 = time.perf_counter()
    return {"models_install_s": t1 - t0, "selftest_offline_s": t2 - t1}


def main() -> int:
    """Run the rounds and print a table (or JSON)."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    rounds = [one_round() for _ in range(args.rounds)]
    result = {
        key: {"median": statistics.median(r[key] for r in rounds),
              "max": max(r[key] for r in rounds)}
        for key in rounds[0]
    }  # fmt: skip
    if args.json:
        print(json.dumps({"machine": platform.machine(), "rounds": args.rounds, **result}))
    else:
        print(f"{platform.machine()}, {args.rounds} rounds")
        for key, v in result.items():
            print(f"{key:<20} median {v['median']:.2f} s   max {v['max']:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
