"""Firmware figures: crash-restart latency under the process supervisor; device tick cost.

    python bench/bench_firmware.py --kills 10

Restart latency = SIGKILL of a writer (kiosk.store outbox, WAL, synchronous=FULL) until the
restarted writer has committed its first row again. Restart delay 0 here; the units use 3 s.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

from gpiozero.pins.mock import MockFactory

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from firmware import build_device  # noqa: E402
from firmware.procsup import ProcessSupervisor  # noqa: E402
from kiosk.config import GpioConfig  # noqa: E402
from kiosk.core.clock import FakeClock  # noqa: E402

CHILD = """\
import os, sys, time, uuid
from pathlib import Path
from kiosk.store.db import connect
from kiosk.store.outbox import OutboxRepository
repo = OutboxRepository(connect(Path(sys.argv[1])))
fd = os.open(sys.argv[2], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
while True:
    rid = uuid.uuid4().hex
    repo.enqueue(rid, "bench", b"x", time.time())
    os.write(fd, (rid + "\\n").encode()); os.fsync(fd)
    time.sleep(0.005)
"""


def lines(path: Path) -> int:
    """Committed rows so far."""
    return len(path.read_text().splitlines()) if path.exists() else 0


def restart_latency(kills: int) -> list[float]:
    """Seconds from SIGKILL to the first row committed by the restarted writer."""
    tmp = Path(tempfile.mkdtemp())
    script, log = tmp / "w.py", tmp / "log"
    script.write_text(CHILD)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    sup = ProcessSupervisor(
        [sys.executable, str(script), str(tmp / "k.sqlite3"), str(log)],
        budget=kills + 1, window_s=3600, restart_delay_s=0, env=env,
    )  # fmt: skip
    sup.start()
    out = []
    try:
        for _ in range(kills):
            start = lines(log)
            while lines(log) < start + 5 or sup.pid is None:
                sup.poll()
                time.sleep(0.001)
            before = lines(log)
            pid = sup.pid
            t0 = time.monotonic()
            os.kill(pid, signal.SIGKILL)
            while not (sup.pid not in (None, pid) and lines(log) > before):
                sup.poll()
                time.sleep(0.001)
            out.append(time.monotonic() - t0)
    finally:
        sup.stop()
    return out


def tick_cost(n: int) -> float:
    """Microseconds per Device.tick() on MockFactory pins (busy pattern)."""
    factory, clock = MockFactory(), FakeClock()
    dev = build_device(
        GpioConfig(), on_help=lambda: None, on_presence=lambda p: None, clock=clock,
        pin_factory=factory, background=False,
    )  # fmt: skip
    dev.set_status("busy")
    t0 = time.perf_counter()
    for _ in range(n):
        clock.advance(0.01)
        dev.tick()
    dt = time.perf_counter() - t0
    dev.close()
    return dt / n * 1e6


def main() -> None:
    """Run both measurements and print a table."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--kills", type=int, default=10)
    ap.add_argument("--ticks", type=int, default=20000)
    args = ap.parse_args()
    lat = sorted(restart_latency(args.kills))
    median_ms, max_ms = statistics.median(lat) * 1000, lat[-1] * 1000
    print(f"restart after SIGKILL to first new commit, n={len(lat)}: ", end="")
    print(f"median {median_ms:.0f} ms, max {max_ms:.0f} ms")
    print(f"Device.tick() on MockFactory: {tick_cost(args.ticks):.1f} us per tick")
    print(f"load average: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
