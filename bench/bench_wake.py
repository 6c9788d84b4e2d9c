"""Commit-to-publish latency of the outbox relay: woken on commit vs. left to its fallback poll.

    python bench/bench_wake.py [--records 200] [--unwoken 3]

Real SQLite (WAL, synchronous=FULL) and the real ``Uplink`` relay thread; the MQTT link is a
stand-in that records when ``publish_records`` is called, so the figure is the kiosk's own delay
from a committed outbox row to its PUBLISH, without the network. One record at a time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from kiosk.config import UplinkConfig, parse_config  # noqa: E402
from kiosk.core.clock import SystemClock  # noqa: E402
from kiosk.store.db import connect  # noqa: E402
from kiosk.store.outbox import OutboxRepository  # noqa: E402
from kiosk.uplink.client import Connected, Event  # noqa: E402
from kiosk.uplink.service import FALLBACK_POLL_S, Uplink  # noqa: E402
from kiosk.uplink.topics import Name  # noqa: E402


class StampLink:
    """Always connected; notes the time of each publish."""

    def __init__(self, _cfg: UplinkConfig, _dev: str, on_event: Callable[[Event], None]) -> None:
        self.on_event = on_event
        self.last_error: str | None = None
        self.published = threading.Semaphore(0)
        self.at: list[float] = []
        self.connected = True

    def start(self) -> None:
        self.on_event(Connected())

    def stop(self) -> None:
        pass

    def publish_records(self, kind: str, record_ids: list[str], payload: bytes) -> int | None:
        self.at.append(time.perf_counter())
        self.published.release()
        return len(self.at)

    def publish_json(self, name: str, payload: bytes) -> int | None:
        return 1


def run(records: int, woken: bool) -> list[float]:
    """Latencies (ms) of ``records`` commits, one at a time."""
    with tempfile.TemporaryDirectory() as tmp:
        cfg = parse_config(
            {
                "device": {"id": "kiosk-bench-01"},
                "paths": {"data_dir": tmp},
                "uplink": {"inflight_window": 1000},  # nothing acks here: no window stalls
            }
        )
        db = Path(tmp) / "k.sqlite3"
        links: list[StampLink] = []

        def factory(c: UplinkConfig, d: str, on: Callable[[Event], None]) -> StampLink:
            links.append(StampLink(c, d, on))
            return links[0]

        up = Uplink(cfg, lambda: connect(db), SystemClock(), link_factory=factory)
        outbox = OutboxRepository(connect(db), on_commit=up.notify if woken else lambda: None)
        up.start()
        time.sleep(0.5)  # let the relay connect and go idle
        out = []
        try:
            for i in range(records):
                t0 = time.perf_counter()
                outbox.enqueue(f"01930000-0000-7000-8000-{i:012d}", Name.AUDIT, b"x" * 2048, 1.0)
                if not links[0].published.acquire(timeout=FALLBACK_POLL_S * 3):
                    raise SystemExit("a record was never published")
                out.append((links[0].at[-1] - t0) * 1000)
                time.sleep(0.02)  # the relay goes back to waiting
        finally:
            up.stop()
        return out


def summary(ms: list[float]) -> dict[str, float]:
    """Median, 95th percentile and maximum, ms."""
    ordered = sorted(ms)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return {
        "n": len(ms),
        "median_ms": round(statistics.median(ms), 1),
        "p95_ms": round(p95, 1),
        "max_ms": round(max(ms), 1),
    }


def main() -> None:
    """Print one JSON line per mode."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--records", type=int, default=200)
    ap.add_argument("--unwoken", type=int, default=3, help="records left to the fallback poll")
    args = ap.parse_args()
    if not 0 < args.records <= 1000:
        ap.error("--records must be 1..1000 (the in-flight window; nothing is acked here)")
    print(json.dumps({"mode": "woken on commit", **summary(run(args.records, True))}))
    if args.unwoken > 0:
        print(json.dumps({"mode": "fallback poll only", **summary(run(args.unwoken, False))}))


if __name__ == "__main__":
    main()
