"""Decisions pushed to the kiosks on PostgreSQL: officer's decision -> kiosk topic, end to end.

    /work/main/.venv/bin/python bench/bench_status_push.py [--decisions 2000] [--devices 50]
        [--workers 2]

Starts PostgreSQL and mosquitto (TLS) on loopback (tests/fixtures), stores ``--decisions``
registrations from ``--devices`` kiosks through the ingest store, starts ``--workers`` ingest
workers with the status push (portal/status_push.py), and one subscriber standing in for the
kiosks (the portal's certificate, ``perlinsos/v1/kiosk/+/status``). Then an officer's desk
decides every registration, one transaction each as the command line does, and the bench waits
for every ``status`` message. ``--backlog``: the officer decides everything before any worker
starts (the decisions wait in PostgreSQL), then the workers drain them; latency is then counted
from the workers' start. Reports: decisions/s (first decision to last delivery), p50 / p95
decision-to-delivery latency, how the workers split the pushes, duplicates (must be 0), and this
process's CPU per decision (workers, officer and subscriber all run in it). Timing on a shared
2-core machine is noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from _common import quantile

from kiosk.core.ids import uuid7
from kiosk.crypto.keys import load_portal_private_key, load_signing_private_key
from portal.ingest.postgres import PostgresIngestStore
from portal.ingest.store import Batch, open_store
from portal.ingest.worker import IngestWorker
from portal.intake import device_keys_from_dir
from portal.link import TlsFiles
from portal.status_book import open_book
from portal.status_desk import StatusDesk
from portal.store import Incoming
from tests.fixtures.mqtt import PREFIX, Broker, make_pki, wait_for
from tests.fixtures.postgres import PgServer


def hold(dsn: str, n: int, devices: int) -> list[tuple[str, str]]:
    """Store ``n`` registrations; their (device id, record id)."""
    store = PostgresIngestStore(dsn)
    keys = []
    now = time.time()
    b = Batch(now)
    for i in range(n):
        device, rid = f"kiosk-{i % devices:03d}", uuid7(now + i / 1000, os.urandom(10))
        b.add(Incoming(device, rid, "registration", {"nik": "x", "receipt_no": rid}))
        keys.append((device, rid))
        if len(b.records) == 512:
            store.write(b)
            b = Batch(now)
    store.write(b)
    store.close()
    return keys


def main() -> int:
    """Run the benchmark."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--decisions", type=int, default=2000)
    ap.add_argument("--devices", type=int, default=50)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument(
        "--backlog", action="store_true",
        help="decide everything while no worker runs, then start the workers (drain rate)",
    )  # fmt: skip
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-push-"))
    pki = make_pki(work / "pki")
    broker = Broker(work / "broker", pki)
    broker.start()
    pg = PgServer()
    pg.start()
    tls = TlsFiles(pki.ca.ca_file, pki.portal.cert, pki.portal.key)
    signing = load_signing_private_key(pki.signing_private)
    (work / "keys").mkdir()
    got: dict[tuple[str, str], list[float]] = {}
    done = threading.Event()

    def on_message(_c: Any, _u: Any, m: mqtt.MQTTMessage) -> None:
        body = json.loads(m.payload)
        got.setdefault((body["device_id"], body["record_id"]), []).append(time.time())
        if len(got) >= args.decisions:
            done.set()

    kiosks = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="kiosks", protocol=mqtt.MQTTv5)
    kiosks.tls_set(ca_certs=str(tls.ca), certfile=str(tls.cert), keyfile=str(tls.key))
    kiosks.on_message = on_message
    workers: list[IngestWorker] = []
    try:
        keys = hold(pg.dsn, args.decisions, args.devices)
        kiosks.connect("127.0.0.1", broker.port)
        kiosks.loop_start()
        kiosks.subscribe(f"{PREFIX}/kiosk/+/status", qos=1)
        officer = StatusDesk(open_book("postgres", pg.dsn), signing)
        decided_at: dict[tuple[str, str], float] = {}

        def decide_all() -> float:
            t0 = time.time()
            for device, rid in keys:
                decided_at[(device, rid)] = time.time()
                officer.decided(device, rid, "verified", None, decided_at[(device, rid)])
            return time.time() - t0

        decide_s = decide_all() if args.backlog else 0.0
        cpu0, started = time.process_time(), time.time()
        for i in range(args.workers):
            w = IngestWorker(
                host="127.0.0.1",
                port=broker.port,
                store=open_store("postgres", pg.dsn),
                private_key=load_portal_private_key(pki.portal_private),
                signing_key=signing,
                device_keys=device_keys_from_dir(work / "keys"),
                client_id=f"ingest-{i}",
                tls=tls,
                status_push=pg.dsn,
            )
            w.start()
            workers.append(w)
        for w in workers:
            wait_for(w.connected.is_set, 20, "worker connected")
        if not args.backlog:
            cpu0, started = time.process_time(), time.time()
            decide_s = decide_all()
        else:  # latency from the workers' start: the decisions were waiting for them
            decided_at = dict.fromkeys(decided_at, started)
        done.wait(600)
        last = max(t for ts in got.values() for t in ts) if got else started
        cpu = time.process_time() - cpu0
        officer.close()
        lat = [(ts[0] - decided_at[k]) * 1000 for k, ts in got.items()]
        pushed = [w.pusher.counts.published if w.pusher else 0 for w in workers]
        out = {
            "decisions": args.decisions,
            "devices": args.devices,
            "workers": args.workers,
            "backlog": args.backlog,
            "load_1m_at_start": round(os.getloadavg()[0], 2),
            "delivered": len(got),
            "duplicates": sum(len(ts) - 1 for ts in got.values()),
            "published_per_worker": pushed,
            "decide_ms_per_decision": round(decide_s * 1000 / args.decisions, 3),
            "decisions_per_s_end_to_end": round(len(got) / max(last - started, 1e-9), 1),
            "latency_ms_p50": round(quantile(lat, 0.5), 1) if lat else None,
            "latency_ms_p95": round(quantile(lat, 0.95), 1) if lat else None,
            "cpu_ms_per_decision_all_in_process": round(cpu * 1000 / args.decisions, 3),
            "missing": [k for k in keys if k not in got][:5],
        }
        print(json.dumps(out, indent=2))
        return 0 if len(got) == args.decisions and out["duplicates"] == 0 else 1
    finally:
        for w in workers:
            w.stop()
        kiosks.loop_stop()
        broker.stop()
        pg.remove()
        shutil.rmtree(work, ignore_errors=True)  # test keys and the broker's files


if __name__ == "__main__":
    raise SystemExit(main())
