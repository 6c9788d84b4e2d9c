"""Fleet simulator: N kiosks (real envelopes, real outbox relay, one MQTT link each) against
mosquitto (MQTT 5, TLS, per-device certificates and ACL) and the PostgreSQL ingest workers.

    /work/main/.venv/bin/python bench/fleet.py [--kiosks 1000] [--records 10] [--storm 5]
        [--heartbeat-s 10] [--heartbeat-window 20]

Everything runs on loopback in temp dirs and is bounded (``--kiosks`` <= 2000, ``--records``
<= 100, ``--timeout`` per phase). Phases, in one run:

1. *scaling*: the backlog (kiosks x records) is queued in the broker for two shared
   subscription groups while their workers are offline; group ``one`` (1 worker) then drains
   it into its own database, then group ``two`` (2 workers) into another: the rate ratio.
   Worker CPU per record comes from /proc (user + system) over the drain.
2. *live*: every kiosk commits ``--records`` more while connected; end-to-end acked records/s and
   record-to-ack latency (publish -> application ack at the kiosk), 2 workers.
3. *storm*: the broker restarts (every kiosk drops at once), each kiosk commits ``--storm``
   records while it is down, all reconnect together and drain.
4. *heartbeats*: every kiosk sends a valid heartbeat every ``--heartbeat-s``; worker CPU share.

Then it checks the database against every kiosk's outbox: lost (committed at a kiosk, not in
PostgreSQL, or never acked) and duplicated (rows or "duplicate" acks) must both be 0.
Prints JSON lines and a summary JSON object.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import queue
import random
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import paho.mqtt.client as mqtt  # noqa: E402
import psycopg  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from paho.mqtt.packettypes import PacketTypes  # noqa: E402
from paho.mqtt.properties import Properties  # noqa: E402

from kiosk.config import UplinkConfig, parse_config  # noqa: E402
from kiosk.core.clock import SystemClock  # noqa: E402
from kiosk.core.ids import uuid7  # noqa: E402
from kiosk.core.outbox import Backoff  # noqa: E402
from kiosk.crypto.envelope import EnvelopeSealer  # noqa: E402
from kiosk.crypto.frame import FrameSigner  # noqa: E402
from kiosk.crypto.keys import load_portal_public_key, public_pem  # noqa: E402
from kiosk.crypto.trust import load_trusted  # noqa: E402
from kiosk.store.db import connect  # noqa: E402
from kiosk.store.outbox import OutboxRepository  # noqa: E402
from kiosk.uplink.client import Event, FullJitter, Inbound, MqttLink  # noqa: E402
from kiosk.uplink.inbound import decode  # noqa: E402
from kiosk.uplink.relay import Relay  # noqa: E402
from kiosk.uplink.topics import Name  # noqa: E402
from tests.fixtures.mqtt import PREFIX, Broker, make_pki  # noqa: E402
from tests.fixtures.postgres import PgServer  # noqa: E402
from tests.fixtures.procstat import children_of, proc_cpu, proc_mem  # noqa: E402

MAX_KIOSKS, MAX_RECORDS = 2000, 100


@dataclass(frozen=True)
class LinkSpec:
    """How the simulated kiosks reach the broker: kiosk i uses ``ports[i % len(ports)]``."""

    ports: tuple[int, ...]
    protocol: str = "5"
    tls: bool = True
    ack_timeout_s: float = 120.0
    backoff_max_s: float = 5.0
    """Cap on the reconnect delay (the kiosk default is 300 s, its link caps it at 60)."""
    keepalive_s: int = 30


def loadavg() -> str:
    """The machine's load average (1, 5, 15 min), as ``uptime`` prints it."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


@dataclass
class Kiosk:
    """One simulated kiosk: its outbox (SQLite in memory), sealer, relay and MQTT link."""

    device_id: str
    repo: OutboxRepository
    sealer: EnvelopeSealer
    relay: Relay
    link: MqttLink
    sent_at: dict[str, float] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    duplicate_acks: int = 0
    committed: list[str] = field(default_factory=list)


class TimedLink:
    """The relay's link: the real MqttLink, remembering when each record was first published."""

    def __init__(self, fleet: Fleet, index: int) -> None:
        self._fleet, self._i = fleet, index

    def publish_records(self, kind: str, record_ids: list[str], payload: bytes) -> int | None:
        """Publish a frame through the kiosk's MqttLink and note the time of each record."""
        k = self._fleet.kiosks[self._i]
        mid = k.link.publish_records(kind, record_ids, payload)
        if mid is not None:
            now = time.perf_counter()
            for record_id in record_ids:
                k.sent_at.setdefault(record_id, now)
        return mid


class Fleet:
    """All kiosks in one process: one network thread per MQTT link, one relay driver thread."""

    def __init__(
        self, work: Path, pki: Any, spec: LinkSpec, first: int, n: int, keys_dir: Path
    ) -> None:
        self.events: queue.SimpleQueue[tuple[int, Event]] = queue.SimpleQueue()
        self.kiosks: list[Kiosk] = []
        self.acked_at: list[float] = []
        portal_pub = load_portal_public_key(pki.portal_public)

        base = UplinkConfig(
            host="127.0.0.1",
            portal_public_key=pki.portal_public,
            protocol=spec.protocol,
            keepalive_s=spec.keepalive_s,
            ack_timeout_s=spec.ack_timeout_s,
            backoff_initial_s=1.0,
            backoff_max_s=spec.backoff_max_s,
        )
        clock = SystemClock()
        signers = load_trusted([pki.signing_public.parent])  # the provisioned reply-signing key
        trusted = lambda: signers  # noqa: E731
        for i in range(n):
            device_id = f"kiosk-{first + i:05d}"
            key = Ed25519PrivateKey.generate()
            (keys_dir / f"{device_id}.pem").write_bytes(public_pem(key))
            uplink = base.model_dump(mode="json", exclude={"tls"})
            uplink["port"] = spec.ports[(first + i) % len(spec.ports)]
            if spec.tls:
                cert = pki.device(device_id)
                uplink["tls"] = {
                    "ca_file": str(pki.ca.ca_file),
                    "cert_file": str(cert.cert),
                    "key_file": str(cert.key),
                }
            cfg = parse_config(
                {
                    "device": {"id": device_id},
                    "paths": {"data_dir": str(work / "kiosks")},
                    "uplink": uplink,
                }
            )
            repo = OutboxRepository(connect(Path(":memory:")))
            link = MqttLink(cfg.uplink, device_id, lambda ev, i=i: self.events.put((i, ev)))
            relay = Relay(
                repo=repo,
                link=TimedLink(self, i),
                clock=clock,
                rng=random.Random(i),
                backoff=Backoff(cfg.uplink.backoff_initial_s, cfg.uplink.backoff_max_s),
                window=cfg.uplink.inflight_window,
                ack_timeout_s=cfg.uplink.ack_timeout_s,
                retention_s=86400.0,
                decode=lambda m, d=device_id: decode(PREFIX, d, m, trusted),
                frame=FrameSigner(device_id=device_id, key=key),
                on_acked=lambda ids, i=i: self._acked(i, ids),
            )
            sealer = EnvelopeSealer(
                device_id=device_id, portal_public_key=portal_pub, device_private_key=key
            )
            self.kiosks.append(Kiosk(device_id, repo, sealer, relay, link))
        self._stop = threading.Event()
        self._driver = threading.Thread(target=self._drive, name="fleet-relays", daemon=True)
        self._lock = threading.Lock()

    def _acked(self, i: int, ids: list[str]) -> None:
        k = self.kiosks[i]
        now = time.perf_counter()
        for rid in ids:
            sent = k.sent_at.get(rid)
            if sent is not None:
                k.latencies.append(now - sent)
        self.acked_at.extend([now] * len(ids))

    def commit(self, per_kiosk: int) -> int:
        """Each kiosk seals and commits ``per_kiosk`` registrations (the outbox's one way in)."""
        for k in self.kiosks:
            with self._lock:
                for j in range(per_kiosk):
                    now = time.time()
                    rid = uuid7(now, os.urandom(10))
                    record = {
                        "record_id": rid,
                        "nik": f"3510010101{j:06d}",
                        "answers": {"household_size": 1 + j % 7},
                        "clock": {"wall": now, "monotonic": time.monotonic(), "boot_id": "b",
                                  "synced": True},
                    }  # fmt: skip
                    sealed = k.sealer.seal(Name.REGISTRATION, rid, record)
                    k.repo.enqueue(rid, Name.REGISTRATION, sealed, now)
                    k.committed.append(rid)
        return per_kiosk * len(self.kiosks)

    def start(self, per_s: float, seed: int = 0) -> None:
        """Start the relay driver and connect the links over a ramp of ``n / per_s`` seconds,
        each kiosk at a fully jittered moment of it (the uplink's ``FullJitter``: a fleet
        that powers on over a morning arrives at random, not in a metronome; the storm phase
        drops them all at once and their own jittered reconnect spreads them again)."""
        self._driver.start()
        ramp = max(0.05, len(self.kiosks) / per_s)
        jitter = FullJitter(ramp, ramp, random.Random(seed))
        t0 = time.perf_counter()
        for when, n in sorted((jitter.next(), n) for n in range(len(self.kiosks))):
            lag = t0 + when - time.perf_counter()
            if lag > 0:
                time.sleep(lag)
            self.kiosks[n].relay.start()
            self.kiosks[n].link.start()

    def _drive(self) -> None:
        sweep = 0.0
        while not self._stop.is_set():
            touched: dict[int, list[Event]] = defaultdict(list)
            try:
                i, ev = self.events.get(timeout=0.05)
                touched[i].append(ev)
                while True:
                    i, ev = self.events.get_nowait()
                    touched[i].append(ev)
            except queue.Empty:
                pass
            with self._lock:
                for i, evs in touched.items():
                    k = self.kiosks[i]
                    for ev in evs:
                        if isinstance(ev, Inbound) and b'"duplicate"' in ev.payload:
                            k.duplicate_acks += 1
                    k.relay.handle(evs)
                    k.relay.pump()
                now = time.monotonic()
                if now - sweep > 1.0:  # records committed since the last event
                    sweep = now
                    for k in self.kiosks:
                        k.relay.pump()

    def connected(self) -> int:
        """How many links are up."""
        return sum(1 for k in self.kiosks if k.link.connected)

    def published(self) -> int:
        """Committed records published at least once (a kiosk re-sends what is not acked in
        its ack time-out, so 'none pending' is no test once the ramp outlasts it)."""
        with self._lock:
            return sum(len(k.sent_at) for k in self.kiosks)

    def counts(self) -> tuple[int, int, int]:
        """(pending, sent, acked) over the fleet."""
        with self._lock:
            p = s = a = 0
            for k in self.kiosks:
                c = k.repo.counts()
                p, s, a = p + c.pending, s + c.sent, a + c.acked
            return p, s, a

    def clear_latencies(self) -> None:
        """Forget the record-to-ack latencies measured so far."""
        with self._lock:
            for k in self.kiosks:
                k.latencies.clear()

    def latencies(self) -> list[float]:
        """Record-to-ack latencies (seconds) since the last clear."""
        with self._lock:
            return [x for k in self.kiosks for x in k.latencies]

    def beat(self, interval_s: float, window_s: float) -> int:
        """Every kiosk sends a valid heartbeat every ``interval_s``, spread evenly, for
        ``window_s``; returns how many were sent."""
        t0 = time.perf_counter()
        sent = 0
        period = interval_s / len(self.kiosks)
        while time.perf_counter() - t0 < window_s:
            k = self.kiosks[sent % len(self.kiosks)]
            k.link.publish_json(Name.HEARTBEAT, heartbeat(k.device_id))
            sent += 1
            lag = t0 + sent * period - time.perf_counter()
            if lag > 0:
                time.sleep(lag)
        return sent

    def books(self) -> tuple[list[tuple[str, str]], int, int]:
        """(every committed (device, record), "duplicate" acks seen, peak RSS KiB)."""
        with self._lock:
            committed = [(k.device_id, r) for k in self.kiosks for r in k.committed]
            dups = sum(k.duplicate_acks for k in self.kiosks)
        return committed, dups, proc_mem(os.getpid())

    def stop(self) -> None:
        """Stop the driver and every link."""
        self._stop.set()
        self._driver.join(10)
        for k in self.kiosks:
            k.link.stop()


SHARD = 300
"""Kiosks per simulator process: paho's select() loop cannot watch descriptors past 1023, and
each link holds three (its socket and a wake-up socket pair)."""


def _shard(conn: Any, args: tuple[Any, ...]) -> None:
    """(child process) One shard of the fleet, driven by commands from the parent."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    logging.getLogger().setLevel(logging.ERROR)  # 1,000 kiosks' "cannot connect" in the storm
    fleet = Fleet(*args)
    conn.send("ready")
    while True:
        cmd, *params = conn.recv()
        if cmd == "exit":
            fleet.stop()
            conn.send(None)
            return
        conn.send(getattr(fleet, cmd)(*params))


class Shards:
    """The fleet as several processes with :class:`Fleet`'s interface (summed over shards)."""

    def __init__(
        self, work: Path, pki: Any, link: LinkSpec, n: int, keys_dir: Path, per: int = SHARD
    ) -> None:
        import multiprocessing as mp

        ctx = mp.get_context("fork")
        self._conns = []
        self._procs = []
        for first in range(0, n, per):
            parent, child = ctx.Pipe()
            args = (work, pki, link, first, min(per, n - first), keys_dir)
            proc = ctx.Process(target=_shard, args=(child, args), daemon=True)
            proc.start()
            child.close()  # ours closed: a shard that dies is an EOFError here, not a hang
            self._conns.append(parent)
            self._procs.append(proc)
        for c, proc in zip(self._conns, self._procs, strict=True):
            while not c.poll(1.0):
                if not proc.is_alive():
                    raise SystemExit("fleet: a shard failed to start (see its traceback)")
            if c.recv() != "ready":
                raise SystemExit("fleet: a shard failed to start")

    def _all(self, cmd: str, *params: Any) -> list[Any]:
        for c in self._conns:
            c.send((cmd, *params))
        return [c.recv() for c in self._conns]

    def start(self, per_s: float) -> None:
        """Connect every shard's links, ``per_s`` a second in all (jittered, per shard)."""
        for seed, c in enumerate(self._conns):
            c.send(("start", per_s / len(self._conns), seed))
        for c in self._conns:
            c.recv()

    def connected(self) -> int:
        """Links up."""
        return sum(self._all("connected"))

    def published(self) -> int:
        """Records published at least once."""
        return sum(self._all("published"))

    def counts(self) -> tuple[int, int, int]:
        """(pending, sent, acked)."""
        p, s, a = zip(*self._all("counts"), strict=True)
        return sum(p), sum(s), sum(a)

    def commit(self, per_kiosk: int) -> int:
        """Each kiosk commits ``per_kiosk`` records."""
        return sum(self._all("commit", per_kiosk))

    def clear_latencies(self) -> None:
        """Forget latencies."""
        self._all("clear_latencies")

    def latencies(self) -> list[float]:
        """All record-to-ack latencies."""
        return [x for part in self._all("latencies") for x in part]

    def beat(self, interval_s: float, window_s: float) -> int:
        """Heartbeats from every kiosk."""
        return sum(self._all("beat", interval_s, window_s))

    def books(self) -> tuple[list[tuple[str, str]], int, int]:
        """Committed records, duplicate acks, largest shard RSS."""
        parts = self._all("books")
        return [x for p in parts for x in p[0]], sum(p[1] for p in parts), max(p[2] for p in parts)

    def stop(self) -> None:
        """Stop every shard (killed when it does not answer within a minute)."""
        for c in self._conns:
            with contextlib.suppress(OSError):  # that shard is gone already
                c.send(("exit",))
        for c, p in zip(self._conns, self._procs, strict=True):
            try:
                if c.poll(60):
                    c.recv()
            except (OSError, EOFError):
                pass
            p.join(5)
            if p.is_alive():
                p.kill()
                p.join(5)


class Workers:
    """Ingest worker processes (``python -m portal.ingest.worker``)."""

    def __init__(
        self, work: Path, pki: Any, brokers: str, keys_dir: Path, extra: list[str]
    ) -> None:
        self._work, self._pki, self._brokers, self._keys = work, pki, brokers, keys_dir
        self._extra = extra  # protocol, TLS or credentials
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.cpu0: dict[str, float] = {}

    def start(self, client_id: str, group: str, dsn: str) -> None:
        """Start one worker."""
        log = open(self._work / f"{client_id}.log", "ab")  # noqa: SIM115 (child's stderr)
        self.procs[client_id] = subprocess.Popen(
            [sys.executable, "-m", "portal.ingest.worker",
             "--broker", self._brokers, "--store", "postgres", "--target", dsn,
             "--client-id", client_id, "--group", group,
             "--private-key", str(self._pki.portal_private), "--device-keys", str(self._keys),
             "--signing-key", str(self._pki.signing_private), *self._extra],
            cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=subprocess.DEVNULL, stderr=log,
        )  # fmt: skip
        self.cpu0[client_id] = 0.0

    def wait_connected(self, *ids: str, timeout: float = 60.0) -> None:
        """Until each worker logged its broker connection (migrated and subscribed)."""
        for i in ids:
            log = self._work / f"{i}.log"
            wait_until(lambda log=log: b"portal subscribed" in log.read_bytes(), timeout,
                       f"worker {i} to connect", every=0.005)  # fmt: skip

    def cpu(self, *ids: str) -> float:
        """CPU seconds used so far by these workers."""
        return sum(proc_cpu(self.procs[i].pid) for i in ids)

    def hwm(self, *ids: str) -> int:
        """Peak RSS of these workers, KiB (largest)."""
        return max(proc_mem(self.procs[i].pid) for i in ids)

    def stop(self, *ids: str) -> None:
        """SIGTERM and wait (a worker finishes its batch; the session stays on the broker)."""
        for i in ids or list(self.procs):
            p = self.procs.pop(i, None)
            if p is not None and p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(30)
                except subprocess.TimeoutExpired:
                    p.kill()


def forget_session(pki: Any, port: int, client_id: str) -> None:
    """Connect once as ``client_id`` with a clean start and no expiry: the broker drops its
    persistent session (and the messages queued for it)."""
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    c.tls_set(ca_certs=str(pki.ca.ca_file), certfile=str(pki.portal.cert),
              keyfile=str(pki.portal.key))  # fmt: skip
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = 0
    c.connect("127.0.0.1", port, clean_start=True, properties=props)
    c.loop_start()
    time.sleep(0.5)
    c.disconnect()
    c.loop_stop()


def count(dsn: str) -> tuple[int, int]:
    """(rows, distinct (device, record)) in the record table."""
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT count(*), count(DISTINCT (device_id, record_id)) FROM record"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def drain_span(dsn: str) -> tuple[float, int]:
    """(seconds from the first committed batch to the last, records committed after the first
    batch): the steady ingest rate, without process start-up."""
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT max(received_at) - min(received_at),"
            " count(*) FILTER (WHERE received_at > (SELECT min(received_at) FROM record))"
            " FROM record"
        ).fetchone()
    assert row is not None
    return max(float(row[0]), 1e-3), int(row[1])


def wait_until(pred: Any, timeout: float, what: str, every: float = 0.05) -> float:
    """Poll ``pred`` every ``every`` s; seconds it took; SystemExit after ``timeout``."""
    t0 = time.perf_counter()
    while not pred():
        if time.perf_counter() - t0 > timeout:
            raise SystemExit(f"fleet: timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)
    return time.perf_counter() - t0


def pct(values: list[float], q: int) -> float:
    """The q-th percentile (ms)."""
    if len(values) < 2:
        return round(1000 * values[0], 1) if values else 0.0
    return round(1000 * statistics.quantiles(values, n=100)[q - 1], 1)


def heartbeat(device_id: str) -> bytes:
    """A valid heartbeat message (schemas/heartbeat.json)."""
    return json.dumps(
        {"v": 1, "device_id": device_id,
         "clock": {"wall": time.time(), "monotonic": time.monotonic(), "boot_id": "b",
                   "synced": True},
         "queue_depth": 0, "oldest_pending_age_s": None, "dead": 0,
         "disk_free_bytes": 12_000_000_000, "cpu_temp_c": 51.5, "camera": "ok",
         "models": {"detector": "1"}, "software_version": "0.1.0"},
        separators=(",", ":"),
    ).encode()  # fmt: skip


def mosquitto_phases(
    args: argparse.Namespace,
    out: dict[str, Any],
    pki: Any,
    broker: Broker,
    fleet: Shards,
    workers: Workers,
    dsns: dict[str, str],
) -> str:
    """Scaling (1 vs 2 workers), live, storm and heartbeats on mosquitto; the books' database."""
    # sessions for both groups exist before any record is published, then go offline
    for cid, group in (("solo", "one"), ("duo-1", "two"), ("duo-2", "two")):
        workers.start(cid, group, dsns[group])
    workers.wait_connected("solo", "duo-1", "duo-2")
    workers.stop()
    # --- 1. scaling: the queued backlog, drained by 1 then by 2 workers
    n1 = fleet.commit(args.records)
    fleet.start(args.connect_rate)
    out["connect_all_s"] = round(
        wait_until(lambda: fleet.connected() == args.kiosks, args.timeout, "connections"), 1
    )
    wait_until(lambda: fleet.counts()[0] == 0, args.timeout, "backlog published")
    time.sleep(2.0)  # the last PUBACKs: everything is queued in the broker
    res: dict[str, Any] = {"records": n1}
    for label, ids, group in (
        ("one_worker", ("solo",), "one"),
        ("two_workers", ("duo-1", "duo-2"), "two"),
    ):
        for cid in ids:
            workers.start(cid, group, dsns[group])
        workers.wait_connected(*ids)  # start-up (imports, migrations) is not ingest CPU
        cpu0 = workers.cpu(*ids)
        wait_until(lambda g=group: count(dsns[g])[1] >= n1, args.timeout, label)
        cpu = workers.cpu(*ids) - cpu0
        secs, after_first = drain_span(dsns[group])
        res[label] = {
            "seconds": round(secs, 2),
            "records_per_s": round(after_first / secs, 1),
            "worker_cpu_ms_per_record": round(1000 * cpu / n1, 3),
            "worker_rss_peak_kib": workers.hwm(*ids),
            "load": loadavg(),
        }
        print(json.dumps({label: res[label]}), flush=True)
        if group == "one":
            workers.stop("solo")
            forget_session(pki, broker.port, "solo")
    one, two = res["one_worker"]["records_per_s"], res["two_workers"]["records_per_s"]
    res["ratio_two_to_one"] = round(two / one, 2) if one else None  # None: a one-batch drain
    wait_until(lambda: fleet.counts()[2] >= n1, args.timeout, "acks of the backlog")
    out["scaling"] = res
    # --- 2. live: records committed while every kiosk is connected
    fleet.clear_latencies()
    cpu0 = workers.cpu("duo-1", "duo-2")
    pg_cpu0 = pg_cpu(out)
    t0 = time.perf_counter()
    n2 = fleet.commit(args.records)
    wait_until(lambda: fleet.counts()[2] >= n1 + n2, args.timeout, "live acks")
    secs = time.perf_counter() - t0
    lat = fleet.latencies()
    out["live"] = {
        "records": n2,
        "seconds": round(secs, 2),
        "acked_per_s": round(n2 / secs, 1),
        "ack_latency_p50_ms": pct(lat, 50),
        "ack_latency_p95_ms": pct(lat, 95),
        "worker_cpu_ms_per_record": round(1000 * (workers.cpu("duo-1", "duo-2") - cpu0) / n2, 3),
        "postgres_cpu_ms_per_record": round(1000 * (pg_cpu(out) - pg_cpu0) / n2, 3),
        "load": loadavg(),
    }
    print(json.dumps({"live": out["live"]}), flush=True)
    # --- 3. reconnect storm: the broker restarts, every kiosk drops and returns at once
    broker.stop()
    wait_until(lambda: fleet.connected() == 0, 30, "all links down")
    n3 = fleet.commit(args.storm)
    fleet.clear_latencies()
    t0 = time.perf_counter()
    broker.start()
    back = wait_until(lambda: fleet.connected() == args.kiosks, args.timeout, "reconnects")
    drained = wait_until(
        lambda: fleet.counts()[2] >= n1 + n2 + n3, args.timeout, "storm backlog acked"
    )
    lat = fleet.latencies()
    out["storm"] = {
        "records": n3,
        "all_reconnected_s": round(back, 1),
        "drained_s": round(back + drained, 1),
        "ack_latency_p95_ms": pct(lat, 95),
        "broker_rss_kib": proc_mem(broker.proc.pid if broker.proc else 0, "VmRSS"),
        "load": loadavg(),
    }
    print(json.dumps({"storm": out["storm"]}), flush=True)
    # --- 4. heartbeats: every kiosk every heartbeat_s, spread evenly
    out["heartbeats"] = beats(args, fleet, workers, ("duo-1", "duo-2"), dsns["two"])
    out["broker_rss_peak_kib"] = proc_mem(broker.proc.pid if broker.proc else 0)
    out["workers_rss_peak_kib"] = workers.hwm("duo-1", "duo-2")
    return dsns["two"]


def beats(
    args: argparse.Namespace, fleet: Shards, workers: Workers, ids: tuple[str, ...], dsn: str
) -> dict[str, Any]:
    """Every kiosk sends a heartbeat every ``--heartbeat-s`` for ``--heartbeat-window``."""
    cpu0 = workers.cpu(*ids)
    t0 = time.perf_counter()
    sent = fleet.beat(args.heartbeat_s, args.heartbeat_window)
    secs = time.perf_counter() - t0
    time.sleep(2.0)  # the last batch
    cpu = workers.cpu(*ids) - cpu0
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT count(*) FROM heartbeat").fetchone()
    res = {
        "sent": sent,
        "per_s": round(sent / secs, 1),
        "devices_with_a_beat": int(row[0]) if row else 0,
        "worker_cpu_share_of_one_core": round(cpu / (secs + 2.0), 3),
        "worker_cpu_ms_per_heartbeat": round(1000 * cpu / max(sent, 1), 3),
        "load": loadavg(),
    }
    print(json.dumps({"heartbeats": res}), flush=True)
    return res


class NodeMemory:
    """Peak resident memory of each cluster node, sampled every second in the background."""

    def __init__(self, cluster: Any) -> None:
        self._cluster = cluster
        self.peak: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="node-memory", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            self.sample()

    def sample(self) -> dict[str, int]:
        """Each running node's RSS now (MiB); the peaks are updated."""
        now = self._cluster.memory_kib()
        for name, kib in now.items():
            self.peak[name] = max(self.peak.get(name, 0), kib)
        return {self.label(name): kib // 1024 for name, kib in now.items()}

    def label(self, name: str) -> str:
        """'a', 'b', 'c' for the nodes in order."""
        return "abc"[[n.name for n in self._cluster.nodes].index(name)]

    def stop(self) -> dict[str, int]:
        """Stop sampling; peak RSS per node, MiB."""
        self._stop.set()
        self._thread.join(5)
        return {self.label(n): kib // 1024 for n, kib in sorted(self.peak.items())}


def rabbitmq_phases(
    args: argparse.Namespace,
    out: dict[str, Any],
    cluster: Any,
    balancer: Any,
    fleet: Shards,
    workers: Workers,
    dsn: str,
) -> str:
    """The backlog over a 3-node RabbitMQ cluster (MQTT 3.1.1), the worker's node killed
    mid-drain; then heartbeats. Kiosks know one address, a round-robin balancer over the three
    nodes (as production puts in front of the cluster): a third of them sit on the node that is
    killed and come back through the balancer on a live one; the worker moves to the next node
    of its own list."""
    b = cluster.nodes[1]
    memory = NodeMemory(cluster)
    workers.start(WORKER, "ingest", dsn)  # its persistent session (queue) before the backlog
    workers.wait_connected(WORKER)
    workers.stop(WORKER)
    n = fleet.commit(args.records)
    t_connect = time.perf_counter()
    fleet.start(args.connect_rate)  # returns after the ramp of kiosks / rate seconds
    wait_until(lambda: fleet.connected() == args.kiosks, args.timeout, "connections", 1.0)
    out["connect_ramp_s"] = round(args.kiosks / args.connect_rate, 1)
    out["connect_all_s"] = round(time.perf_counter() - t_connect, 1)  # from the first connect
    out["kiosks_per_node"] = dict(zip("abc", balancer.open_per_target(), strict=True))
    out["node_rss_mib_connected"] = memory.sample()
    out["load_connected"] = loadavg()
    print(json.dumps({k: out[k] for k in ("connect_ramp_s", "connect_all_s", "kiosks_per_node",
                                          "node_rss_mib_connected", "load_connected")}),
          flush=True)  # fmt: skip
    wait_until(lambda: fleet.published() >= n, args.timeout, "backlog published", 1.0)
    workers.start(WORKER, "ingest", dsn)
    workers.wait_connected(WORKER)
    cpu0, t0 = workers.cpu(WORKER), time.perf_counter()
    wait_until(lambda: count(dsn)[1] >= n // 3, args.timeout, "a third of the backlog", 0.2)
    at_kill, acked_at_kill = count(dsn)[1], fleet.counts()[2]
    cluster.kill(b)  # the worker's node: a power cut of that machine
    killed = time.perf_counter()
    mid_drain = 0 < at_kill < n and acked_at_kill < n
    out["node_rss_mib_at_kill"] = memory.sample()
    wait_until(lambda: count(dsn)[1] >= n, args.timeout, "the backlog after the node kill", 0.5)
    stored = time.perf_counter()
    wait_until(lambda: fleet.counts()[2] >= n, args.timeout, "acks after the node kill", 1.0)
    secs, after_first = drain_span(dsn)
    out["node_kill"] = {
        "records": n,
        "killed": "b (the worker's node and a third of the kiosks)",
        "stored_when_killed": at_kill,
        "acked_when_killed": acked_at_kill,
        "mid_drain": mid_drain,
        "kill_to_all_stored_s": round(stored - killed, 1),
        "kill_to_all_acked_s": round(time.perf_counter() - killed, 1),
        "kiosks_per_node_after": dict(zip("abc", balancer.open_per_target(), strict=True)),
        "drain_s": round(stored - t0, 1),
        "records_per_s": round(after_first / secs, 1),
        "worker_cpu_ms_per_record": round(1000 * (workers.cpu(WORKER) - cpu0) / n, 3),
        "nodes_running_after": len(cluster.running()),
        "load": loadavg(),
    }
    print(json.dumps({"node_kill": out["node_kill"]}), flush=True)
    out["heartbeats"] = beats(args, fleet, workers, (WORKER,), dsn)
    out["workers_rss_peak_kib"] = workers.hwm(WORKER)
    out["node_rss_peak_mib"] = memory.stop()
    if not mid_drain:
        out["error"] = "the node kill did not fall mid-drain: the run proves nothing"
    return dsn


WORKER = "ingest-rmq-1"
"""The 3.1.1 worker's client id: the cluster mirrors the session queues of ``ingest*`` ids."""


def pg_cpu(out: dict[str, Any]) -> float:
    """CPU seconds of the PostgreSQL server and its backends so far."""
    pid = int(out.get("_pg_pid", 0))
    return sum(proc_cpu(p) for p in [pid, *children_of(pid)]) if pid else 0.0


def main() -> int:
    """Run the fleet benchmark."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--broker", choices=("mosquitto", "rabbitmq"), default="mosquitto")
    ap.add_argument("--kiosks", type=int, default=1000)
    ap.add_argument("--records", type=int, default=10)
    ap.add_argument("--storm", type=int, default=5, help="records per kiosk, broker down")
    ap.add_argument("--heartbeat-s", type=float, default=10.0)
    ap.add_argument("--heartbeat-window", type=float, default=20.0, help="seconds measured")
    ap.add_argument("--timeout", type=float, default=300.0, help="per phase, seconds")
    ap.add_argument("--per-process", type=int, default=SHARD, help="kiosks per simulator")
    ap.add_argument(
        "--connect-rate", type=float, default=None,
        help="first connects per s, jittered (default 100 on mosquitto, 5 on RabbitMQ: each 3.1.1"
        " connect registers its client id through Raft and declares a mirrored queue)",
    )  # fmt: skip
    ap.add_argument("--ack-timeout", type=float, default=120.0, help="kiosk ack timeout, s")
    ap.add_argument(
        "--rabbit-memory-mib", type=int, default=1024,
        help="RabbitMQ node memory alarm, MiB (absolute; see docs/PERFORMANCE.md for the need)",
    )  # fmt: skip
    ap.add_argument("--keep", action="store_true", help="keep the work dir (worker logs)")
    args = ap.parse_args()
    if args.connect_rate is None:
        args.connect_rate = 100.0 if args.broker == "mosquitto" else 5.0
    if not (1 <= args.kiosks <= MAX_KIOSKS and 1 <= args.records <= MAX_RECORDS):
        raise SystemExit(f"fleet: --kiosks 1..{MAX_KIOSKS}, --records 1..{MAX_RECORDS}")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up servers on SIGTERM
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    import tempfile

    work = Path(tempfile.mkdtemp(prefix="bench-fleet-"))
    out: dict[str, Any] = {
        "command": " ".join(["python", "bench/fleet.py", *sys.argv[1:]]),
        "broker": args.broker,
        "kiosks": args.kiosks,
        "cpus": os.cpu_count(),
        "load_at_start": loadavg(),
    }
    pki = make_pki(work / "pki")
    keys_dir = work / "device-keys"
    keys_dir.mkdir()
    broker: Broker | None = None
    cluster: Any = None
    balancer: Any = None
    pg = PgServer()
    fleet: Shards | None = None
    workers: Workers | None = None
    try:
        pg.start()
        out["_pg_pid"] = pg.pid() or 0
        dsns = {}
        with psycopg.connect(pg.dsn, autocommit=True) as conn:
            for name in ("one", "two"):
                conn.execute(f"CREATE DATABASE {name}")
                dsns[name] = pg.dsn.replace("dbname=postgres", f"dbname={name}")
        t0 = time.perf_counter()
        if args.broker == "mosquitto":
            broker = Broker(work / "broker", pki)
            broker.start()
            link = LinkSpec((broker.port,), "5", True, args.ack_timeout)
            tls = ["--ca", str(pki.ca.ca_file), "--cert", str(pki.portal.cert),
                   "--key", str(pki.portal.key)]  # fmt: skip
            workers = Workers(work, pki, f"127.0.0.1:{broker.port}", keys_dir, tls)
        else:
            from tests.fixtures.rabbitmq import PASSWORD, USER, RabbitCluster, rabbitmq_missing

            missing = rabbitmq_missing()
            if missing:
                raise SystemExit(f"fleet: {missing}")
            from tests.fixtures.balancer import Balancer

            cluster = RabbitCluster(
                3, memory_mib=args.rabbit_memory_mib, max_connections=args.kiosks + 10
            )
            cluster.start()
            a, b, c = cluster.nodes
            out["cluster_boot_s"] = round(time.perf_counter() - t0, 1)
            balancer = Balancer([a.mqtt_port, b.mqtt_port, c.mqtt_port])
            balancer.start()
            # the kiosks' own reconnect back-off (a slow cluster is not hammered every 5 s), and a
            # keep-alive that outlasts RabbitMQ 3.10's CONNACK under load: it answers only after
            # the client id's Raft registration and the clean session's queue delete, and paho
            # drops a link that heard nothing for one keep-alive (then the kiosk's reconnect
            # takes its own id over, which deletes and re-creates its mirrored queue again)
            backoff = UplinkConfig.model_fields["backoff_max_s"].default
            link = LinkSpec((balancer.port,), "3.1.1", False, args.ack_timeout, backoff, 120)
            nodes = ",".join(f"127.0.0.1:{n.mqtt_port}" for n in (b, c, a))
            # the worker too: a CONNACK slower than its keep-alive would loop it through takeovers
            creds = ["--protocol", "3.1.1", "--keepalive", "60",
                     "--username", USER, "--password", PASSWORD]  # fmt: skip
            workers = Workers(work, pki, nodes, keys_dir, creds)
        for i in range(args.kiosks if link.tls else 0):  # certificates before the shards fork
            pki.device(f"kiosk-{i:05d}")
        fleet = Shards(work, pki, link, args.kiosks, keys_dir, args.per_process)
        out["setup_s"] = round(time.perf_counter() - t0, 1)
        if broker is not None:
            books_dsn = mosquitto_phases(args, out, pki, broker, fleet, workers, dsns)
        else:
            books_dsn = rabbitmq_phases(args, out, cluster, balancer, fleet, workers, dsns["one"])
        # --- the books: every committed record exactly once
        rows, distinct = count(books_dsn)
        with psycopg.connect(books_dsn) as conn:
            held = {(d, r) for d, r in conn.execute("SELECT device_id, record_id FROM record")}
        committed_list, dup_acks, fleet_rss = fleet.books()
        committed = set(committed_list)
        _p, _s, acked = fleet.counts()
        out["books"] = {
            "committed": len(committed),
            "rows": rows,
            "duplicated_rows": rows - distinct,
            "duplicate_acks": dup_acks,
            "lost": len(committed - held),
            "not_acked_at_kiosk": len(committed) - acked,
            "fleet_shard_rss_peak_kib": fleet_rss,
        }
    finally:  # every step, whatever failed before it: nothing may outlive the run
        for step in (
            fleet.stop if fleet is not None else None,
            workers.stop if workers is not None else None,
            broker.stop if broker is not None else None,
            balancer.stop if balancer is not None else None,
            cluster.stop if cluster is not None else None,
            pg.remove,
        ):
            try:
                if step is not None:
                    step()
            except Exception as err:  # report and go on cleaning up
                print(f"fleet: clean-up step failed: {err!r}", file=sys.stderr)
        if args.keep:
            print(f"fleet: work dir kept: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    out.pop("_pg_pid", None)
    out["load_at_end"] = loadavg()
    print(json.dumps(out, indent=1))
    books = out["books"]
    ok = books["lost"] == 0 and books["duplicated_rows"] == 0 and books["not_acked_at_kiosk"] == 0
    ok = ok and "error" not in out
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
