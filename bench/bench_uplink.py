"""Uplink benchmark: backlog drain rate over TLS on loopback, kiosk memory from a 100 to a
10,000 record backlog, and enqueue (commit) latency.

    /work/venv/bin/python bench/bench_uplink.py [--sizes 100 10000] [--enqueue 500]

Starts its own mosquitto (TLS, client certificates, ACL) and the reference portal receiver in a
separate process; each drain runs in a fresh kiosk process so its peak memory is its own.
Results are printed as JSON lines and summarised for docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kiosk.config import KioskConfig, UplinkConfig, parse_config  # noqa: E402
from kiosk.core.clock import SystemClock  # noqa: E402
from kiosk.crypto.keys import load_or_create_device_key, public_pem  # noqa: E402
from kiosk.store.outbox import OutboxRepository  # noqa: E402
from tests.fixtures.mqtt import Broker, install_portal_signing_key, make_pki  # noqa: E402
from tests.fixtures.records import bulk_registrations, commit_registrations, open_db  # noqa: E402


def _vm(field: str) -> int:
    """A /proc/self/status memory figure in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _cpu(pid: int) -> float:
    """User + system CPU seconds used so far by process ``pid``."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def drain_child(cfg_file: Path, n: int) -> None:
    """(child process) Start the uplink on a prepared backlog; report rate and memory."""
    from kiosk.uplink.service import build_uplink

    cfg = parse_config(json.loads(cfg_file.read_text()))
    repo = OutboxRepository(open_db(cfg))
    rss_before = _vm("VmRSS")
    up = build_uplink(cfg, SystemClock())
    t0 = time.perf_counter()
    up.start()
    first: float | None = None
    samples = []
    while True:
        acked = repo.counts().acked
        if first is None and acked > 0:
            first = time.perf_counter()
        samples.append(_vm("VmRSS"))
        if acked >= n:
            break
        if time.perf_counter() - t0 > 600:
            raise SystemExit("drain did not finish in 600 s")
        time.sleep(0.05)
    t1 = time.perf_counter()
    cpu = os.times()
    up.stop()
    print(
        json.dumps(
            {
                "backlog": n,
                "seconds": round(t1 - t0, 2),
                "records_per_s": round(n / (t1 - t0), 1),
                "rss_before_kib": rss_before,
                "rss_peak_during_drain_kib": max(samples),
                "vm_hwm_kib": _vm("VmHWM"),
                "kiosk_cpu_s": round(cpu.user + cpu.system, 2),
            }
        ),
        flush=True,
    )


def make_cfg(work: Path, pki_dir: Path, port: int, device: str, portal_pub: Path) -> KioskConfig:
    """Kiosk config for the bench device."""
    return parse_config(
        {
            "device": {"id": device},
            "paths": {"data_dir": str(work / device)},
            "uplink": {
                "host": "127.0.0.1",
                "port": port,
                "tls": {
                    "ca_file": str(pki_dir / "ca.pem"),
                    "cert_file": str(pki_dir / f"{device}.crt"),
                    "key_file": str(pki_dir / f"{device}.key"),
                },
                "portal_public_key": str(portal_pub),
                "ack_timeout_s": 60.0,
                "heartbeat_s": 60,
                "inflight_window": int(
                    os.environ.get("BENCH_WINDOW", str(UplinkConfig().inflight_window))
                ),
            },
        }
    )


def main() -> int:
    """Run the benchmark."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 10_000])
    ap.add_argument("--enqueue", type=int, default=500)
    ap.add_argument("--drain-child", nargs=2, metavar=("CFG", "N"))
    args = ap.parse_args()
    if args.drain_child:
        drain_child(Path(args.drain_child[0]), int(args.drain_child[1]))
        return 0

    work = Path(tempfile.mkdtemp(prefix="bench-uplink-"))
    pki = make_pki(work / "pki")
    broker = Broker(work / "broker", pki)
    broker.start()
    keys_dir = work / "device-keys"
    keys_dir.mkdir()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    portal = subprocess.Popen(
        [
            sys.executable, "-m", "portal.receiver",
            "--broker", f"127.0.0.1:{broker.port}",
            "--db", str(work / "portal.sqlite3"),
            "--private-key", str(pki.portal_private),
            "--signing-key", str(pki.signing_private),
            "--device-keys", str(keys_dir),
            "--ca", str(pki.ca.ca_file),
            "--cert", str(pki.portal.cert),
            "--key", str(pki.portal.key),
        ],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    results: dict[str, object] = {"cpus": os.cpu_count()}
    try:
        time.sleep(1.0)
        for i, n in enumerate(args.sizes):
            device = f"kiosk-bench-{i:02d}"
            pki.device(device)
            cfg = make_cfg(work, pki.dir, broker.port, device, pki.portal_public)
            install_portal_signing_key(cfg, pki)  # acks are signed: the kiosk verifies each
            key = load_or_create_device_key(cfg.paths.data_dir)
            (keys_dir / f"{device}.pem").write_bytes(public_pem(key))
            bulk_registrations(cfg, n)
            cfg_file = work / f"{device}.json"
            cfg_file.write_text(json.dumps(cfg.model_dump(mode="json")))
            cpu0 = _cpu(portal.pid), _cpu(broker.proc.pid if broker.proc else 0)
            out = subprocess.run(
                [sys.executable, os.environ.get("BENCH_CHILD", __file__), "--drain-child",
                 str(cfg_file), str(n)],
                cwd=REPO, env=env, capture_output=True, text=True, check=True,
            )  # fmt: skip
            line = json.loads(out.stdout.strip().splitlines()[-1])
            cpu1 = _cpu(portal.pid), _cpu(broker.proc.pid if broker.proc else 0)
            line["portal_cpu_s"] = round(cpu1[0] - cpu0[0], 2)
            line["broker_cpu_s"] = round(cpu1[1] - cpu0[1], 2)
            print(json.dumps(line), flush=True)
            results[f"drain_{n}"] = line
        # enqueue latency: seal + commit, and commit alone, on the kiosk database
        pki.device("kiosk-bench-enq")
        cfg = make_cfg(work, pki.dir, broker.port, "kiosk-bench-enq", pki.portal_public)
        conn = open_db(cfg)
        commit_ms: list[float] = []
        total_ms: list[float] = []
        from kiosk.crypto.envelope import sealer_from_config
        from kiosk.store.registrations import RegistrationRepository

        sealer = sealer_from_config(cfg)
        regs = RegistrationRepository(conn)
        for _ in range(args.enqueue):
            t0 = time.perf_counter()
            commit_registrations(cfg, 1, conn, sealer=sealer, repo=regs, timing=commit_ms)
            total_ms.append((time.perf_counter() - t0) * 1000)
        q = statistics.quantiles
        results["enqueue"] = {
            "n": args.enqueue,
            "commit_p50_ms": round(q(commit_ms, n=100)[49], 2),
            "commit_p95_ms": round(q(commit_ms, n=100)[94], 2),
            "seal_plus_commit_p95_ms": round(q(total_ms, n=100)[94], 2),
        }
        print(json.dumps(results["enqueue"]), flush=True)
    finally:
        portal.terminate()
        portal.wait(10)
        broker.stop()
        shutil.rmtree(work, ignore_errors=True)  # test keys, the broker's and kiosk's files
    print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
