"""Portal CPU per record: the reference receiver (SQLite) against one ingest worker (PostgreSQL).

    /work/main/.venv/bin/python bench/bench_ingest.py [--records 3000] [--devices 10]
        [--heartbeats 3000] [--profile] [--ratio-records 30000 --ratio-devices 300]

Starts mosquitto (TLS, client certificates, ACL) and PostgreSQL on loopback, creates both
portal sessions, queues ``--records`` sealed registrations while both are offline, then lets
each drain the same backlog alone, in this process, and reports its CPU seconds (user + system,
every thread) per record and its rate. Then ``--heartbeats`` heartbeats from as many devices
are queued and drained by the worker: CPU per heartbeat, and what 1,000 kiosks at a 10 s
interval (100 heartbeats/s) would cost as a share of one core. ``--profile`` prints a
per-thread CPU profile (cProfile with a thread-CPU clock) of the ingest worker's record run.
The kiosks publish as the relay does: signed frames of up to 64 sealed envelopes.

``--ratio-records N`` then times 1 worker against 2 (separate processes on one MQTT 5 shared
subscription, persistent sessions) draining the same N queued records with the kiosks
offline, and reports the CPU per process (workers, PostgreSQL, mosquitto) and the load.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import paho.mqtt.client as mqtt  # noqa: E402
import psycopg  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from paho.mqtt.packettypes import PacketTypes  # noqa: E402
from paho.mqtt.properties import Properties  # noqa: E402

from kiosk.core.ids import uuid7  # noqa: E402
from kiosk.crypto.envelope import seal  # noqa: E402
from kiosk.crypto.frame import MAX_RECORDS, frame  # noqa: E402
from kiosk.crypto.keys import (  # noqa: E402
    load_portal_private_key,
    load_portal_public_key,
    load_signing_private_key,
    public_pem,
)
from kiosk.uplink.topics import Name  # noqa: E402
from portal.ingest.store import open_store  # noqa: E402
from portal.ingest.worker import IngestWorker  # noqa: E402
from portal.receiver import PortalReceiver, TlsFiles, device_keys_from_dir  # noqa: E402
from tests.fixtures.mqtt import PREFIX, Broker, make_pki  # noqa: E402
from tests.fixtures.postgres import PgServer  # noqa: E402


def uneven(n: int, devices: int, seed: int = 18) -> list[int]:
    """``n`` records over ``devices`` kiosks with backlogs of 1 to about twice the mean, as a
    fleet's differ (seeded). Equal backlogs split into the same frame cycle on every kiosk
    (200 = 64+64+64+8), which the broker's one-message-each round robin over two workers then
    aliases into a fixed 64:36 share of the records."""
    rng = random.Random(seed)
    weights = [rng.uniform(0.05, 1.95) for _ in range(devices)]
    counts = [max(1, int(n * w / sum(weights))) for w in weights]
    counts[-1] += n - sum(counts)
    return counts


def queue_backlog(
    pki: object,
    port: int,
    keys: Path,
    devices: int,
    n: int,
    name: str = "kiosk",
    counts: list[int] | None = None,
) -> None:
    """``n`` sealed registrations from ``devices`` kiosks (``n // devices`` each, or
    ``counts``), published QoS 1 (broker-acked) as the relay does: signed frames of up to
    ``MAX_RECORDS`` envelopes."""
    pub = load_portal_public_key(pki.portal_public)  # type: ignore[attr-defined]
    counts = counts or [n // devices] * devices
    for i in range(devices):
        device_id = f"{name}-{i:03d}"
        key = Ed25519PrivateKey.generate()
        (keys / f"{device_id}.pem").write_bytes(public_pem(key))
        cert = pki.device(device_id)  # type: ignore[attr-defined]
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=device_id, protocol=mqtt.MQTTv5)
        c.tls_set(ca_certs=str(pki.ca.ca_file), certfile=str(cert.cert), keyfile=str(cert.key))  # type: ignore[attr-defined]
        c.connect("127.0.0.1", port)
        c.loop_start()
        envelopes = []
        for _ in range(counts[i]):
            now = time.time()
            rid = uuid7(now, os.urandom(10))
            record = {
                "record_id": rid,
                "nik": "3510010101900001",
                "answers": {"household_size": 3},
                "clock": {"wall": now, "monotonic": 1.0, "boot_id": "b", "synced": False},
            }
            envelopes.append(seal(record, kind=Name.REGISTRATION, record_id=rid,
                                  device_id=device_id, portal_public_key=pub,
                                  device_private_key=key))  # fmt: skip
        infos = []
        props = Properties(PacketTypes.PUBLISH)
        props.ResponseTopic = f"{PREFIX}/kiosk/{device_id}/ack"
        topic = f"{PREFIX}/kiosk/{device_id}/registration"
        for first in range(0, len(envelopes), MAX_RECORDS):
            payload = frame(envelopes[first : first + MAX_RECORDS], kind=Name.REGISTRATION,
                            device_id=device_id, key=key)  # fmt: skip
            infos.append(c.publish(topic, payload, qos=1, properties=props))
        for info in infos:
            info.wait_for_publish(30)
        c.disconnect()
        c.loop_stop()


def queue_heartbeats(pki: object, port: int, n: int) -> None:
    """One valid heartbeat from each of ``n`` devices (QoS 1, broker-acked)."""
    from bench.fleet import heartbeat

    for first in range(0, n, 100):
        clients = []
        for i in range(first, min(n, first + 100)):
            device_id = f"kiosk-hb-{i:05d}"
            cert = pki.device(device_id)  # type: ignore[attr-defined]
            c = mqtt.Client(
                mqtt.CallbackAPIVersion.VERSION2, client_id=device_id, protocol=mqtt.MQTTv5
            )
            c.tls_set(ca_certs=str(pki.ca.ca_file), certfile=str(cert.cert), keyfile=str(cert.key))  # type: ignore[attr-defined]
            c.connect("127.0.0.1", port)
            c.loop_start()
            info = c.publish(f"{PREFIX}/kiosk/{device_id}/heartbeat", heartbeat(device_id), qos=1)
            clients.append((c, info))
        for c, info in clients:
            info.wait_for_publish(30)
            c.disconnect()
            c.loop_stop()


def ratio(
    args: argparse.Namespace, pki: Any, broker: Broker, pg: PgServer, keys: Path, work: Path
) -> dict[str, Any]:
    """1 worker vs 2 workers (separate processes, shared subscription) on one queued backlog.

    Both groups' persistent sessions exist before the kiosks publish; the kiosks then
    disconnect, so while the workers drain nothing else of this bench runs but mosquitto and
    PostgreSQL (the bench polls a row count every 0.2 s). Kiosk backlogs differ (``uneven``):
    equal ones made the broker's round robin give one of two workers 64 % of the records,
    capping the ratio at 1.56 whatever the machine. Rate = records committed after the
    first batch / seconds from the first committed batch to the last (start-up excluded);
    CPU seconds per process over the drain.
    """
    from bench.fleet import Workers, children_of, drain_span, forget_session, proc_cpu

    dsns = {}
    with psycopg.connect(pg.dsn, autocommit=True) as conn:
        for name in ("one", "two"):
            conn.execute(f"CREATE DATABASE {name}")
            dsns[name] = pg.dsn.replace("dbname=postgres", f"dbname={name}")
    tls = ["--ca", str(pki.ca.ca_file), "--cert", str(pki.portal.cert),
           "--key", str(pki.portal.key)]  # fmt: skip
    workers = Workers(work, pki, f"127.0.0.1:{broker.port}", keys, tls)
    groups = (("one_worker", ("solo",), "one"), ("two_workers", ("duo-1", "duo-2"), "two"))
    try:
        for _label, ids, group in groups:
            for cid in ids:
                workers.start(cid, group, dsns[group])
        workers.wait_connected("solo", "duo-1", "duo-2")
        workers.stop()
        n = args.ratio_records - args.ratio_records % args.ratio_devices
        queue_backlog(pki, broker.port, keys, args.ratio_devices, n, name="kiosk-r",
                      counts=uneven(n, args.ratio_devices))  # fmt: skip
        time.sleep(1.0)
        assert broker.proc is not None
        others = {"mosquitto": [broker.proc.pid], "postgresql": [pg.pid() or 0]}
        res: dict[str, Any] = {"records": n, "devices": args.ratio_devices}
        for label, ids, group in groups:
            for cid in ids:
                workers.start(cid, group, dsns[group])
            workers.wait_connected(*ids, timeout=120)  # start-up is not ingest
            pids = {cid: [workers.procs[cid].pid] for cid in ids}
            pids["postgresql"] = others["postgresql"] + children_of(others["postgresql"][0])
            pids["mosquitto"] = others["mosquitto"]
            cpu0 = {k: sum(proc_cpu(p) for p in v) for k, v in pids.items()}
            bench0, load0 = time.process_time(), os.getloadavg()[0]
            with psycopg.connect(dsns[group], autocommit=True) as conn:
                t0 = time.perf_counter()
                while True:
                    row = conn.execute("SELECT count(*) FROM record").fetchone()
                    if row is not None and int(row[0]) >= n:
                        break
                    if time.perf_counter() - t0 > 600:
                        raise SystemExit(f"bench: {label} did not drain in 600 s")
                    time.sleep(0.2)
            pids["postgresql"] = others["postgresql"] + children_of(others["postgresql"][0])
            cpu = {k: sum(proc_cpu(p) for p in v) - cpu0.get(k, 0.0) for k, v in pids.items()}
            secs, after_first = drain_span(dsns[group])
            res[label] = {
                "seconds": round(secs, 2),
                "records_per_s": round(after_first / secs, 1),
                "cpu_ms_per_record": {k: round(1000 * v / n, 3) for k, v in cpu.items()},
                "bench_cpu_ms_per_record": round(1000 * (time.process_time() - bench0) / n, 3),
                "load_1m_before_after": [round(load0, 2), round(os.getloadavg()[0], 2)],
            }
            print(json.dumps({label: res[label]}), flush=True)
            workers.stop(*ids)
            if group == "one":
                forget_session(pki, broker.port, "solo")
        one, two = res["one_worker"]["records_per_s"], res["two_workers"]["records_per_s"]
        res["ratio_two_to_one"] = round(two / one, 2) if one else None
        return res
    finally:
        workers.stop()


def drain(start: object, done: object, n: int) -> dict[str, float]:
    """Start a portal, wait until ``done()`` counts ``n``; CPU and wall seconds per record."""
    cpu0, t0 = time.process_time(), time.perf_counter()
    start()  # type: ignore[operator]
    while done() < n:  # type: ignore[operator]
        if time.perf_counter() - t0 > 600:
            raise SystemExit("bench: drain did not finish in 600 s")
        time.sleep(0.01)
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    return {
        "records_per_s": round(n / wall, 1),
        "cpu_ms_per_record": round(1000 * cpu / n, 3),
        "load_1m_at_end": round(os.getloadavg()[0], 2),
    }


def main() -> int:
    """Run the benchmark."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=3000)
    ap.add_argument("--devices", type=int, default=10)
    ap.add_argument("--heartbeats", type=int, default=3000)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument(
        "--ratio-records", type=int, default=0,
        help="also drain this many queued records by 1 worker, then 2 (separate processes)",
    )  # fmt: skip
    ap.add_argument("--ratio-devices", type=int, default=100)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    pki = make_pki(work / "pki")
    broker = Broker(work / "broker", pki)
    broker.start()
    pg = PgServer()
    pg.start()
    keys = work / "keys"
    keys.mkdir()
    tls = TlsFiles(pki.ca.ca_file, pki.portal.cert, pki.portal.key)
    portal_key = load_portal_private_key(pki.portal_private)
    signing = load_signing_private_key(pki.signing_private)

    def receiver() -> PortalReceiver:
        return PortalReceiver(
            host="127.0.0.1",
            port=broker.port,
            db_path=work / "ref.sqlite3",
            private_key=portal_key,
            signing_key=signing,
            device_keys=device_keys_from_dir(keys),
            tls=tls,
        )

    def worker() -> IngestWorker:
        return IngestWorker(
            host="127.0.0.1",
            port=broker.port,
            store=open_store("postgres", pg.dsn),
            private_key=portal_key,
            signing_key=signing,
            device_keys=device_keys_from_dir(keys),
            client_id="ingest-1",
            tls=tls,
        )

    out: dict[str, object] = {
        "records": args.records,
        "cpus": os.cpu_count(),
        "load_1m_at_start": round(os.getloadavg()[0], 2),
    }
    try:
        for make in (receiver, worker):  # both sessions exist before the backlog is queued
            p = make()
            p.start()
            time.sleep(2.0)
            p.stop()
        queue_backlog(pki, broker.port, keys, args.devices, args.records)
        rx = receiver()
        out["reference_receiver_sqlite"] = drain(
            rx.start, lambda: len(rx.store.record_ids()), args.records
        )
        rx.stop()
        profiles: list[tuple[str, cProfile.Profile]] = []
        run_plain = threading.Thread.run
        if args.profile:
            run = threading.Thread.run

            def profiled(self: threading.Thread) -> None:
                prof = cProfile.Profile(time.thread_time)
                profiles.append((self.name, prof))
                prof.enable()
                try:
                    run(self)
                finally:
                    prof.disable()

            threading.Thread.run = profiled  # type: ignore[method-assign]
        w = worker()
        out["ingest_worker_postgres"] = drain(w.start, lambda: w.counts.stored, args.records)
        w.stop()
        if args.heartbeats:
            queue_heartbeats(pki, broker.port, args.heartbeats)
            w = worker()
            beats = drain(w.start, lambda: w.counts.heartbeats, args.heartbeats)
            w.stop()
            per = beats.pop("cpu_ms_per_record")
            beats = {"cpu_ms_per_heartbeat": per, **beats}
            # 100 heartbeats/s x per ms = per / 10 of a second each second
            beats["percent_of_one_core_1000_kiosks_at_10s"] = round(per * 10, 2)
            out["ingest_worker_heartbeats"] = beats
        if args.ratio_records:
            threading.Thread.run = run_plain  # type: ignore[method-assign]
            out["workers_1_vs_2"] = ratio(args, pki, broker, pg, keys, work)
        for name, prof in profiles:
            text = io.StringIO()
            pstats.Stats(prof, stream=text).sort_stats("tottime").print_stats(15)
            print(f"=== thread {name}\n{text.getvalue()}")
    finally:
        broker.stop()
        pg.remove()
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
