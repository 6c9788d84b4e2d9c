"""Ingest workers on a real mosquitto (MQTT 5 shared subscription) and a real PostgreSQL."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from kiosk.core.clock import SystemClock
from kiosk.core.ids import uuid7
from kiosk.crypto.envelope import seal
from kiosk.crypto.frame import frame
from kiosk.crypto.keys import (
    load_or_create_device_key,
    load_portal_public_key,
    public_pem,
)
from kiosk.store.outbox import OutboxRepository
from kiosk.uplink.service import build_uplink
from portal.ingest.worker import IngestWorker, ingest_filters
from tests.fixtures.mqtt import PREFIX, Broker, KioskFactory, Pki, free_port, wait_for
from tests.fixtures.postgres import PgServer
from tests.fixtures.records import commit_registrations, open_db
from tests.fixtures.workers import pg_worker

pytestmark = [pytest.mark.broker, pytest.mark.postgres]

WorkerFactory = Callable[..., IngestWorker]


@pytest.fixture
def keys_dir(tmp_path: Path) -> Path:
    d = tmp_path / "device-keys"
    d.mkdir()
    return d


@pytest.fixture
def workers(broker: Broker, pki: Pki, pg_dsn: str, keys_dir: Path) -> Iterator[WorkerFactory]:
    """Start ingest workers (each its own client id) on ``broker``, writing to ``pg_dsn``."""
    started: list[IngestWorker] = []

    def start(
        client_id: str, dsn: str = pg_dsn, batch: int = 512, dead_first: int | None = None
    ) -> IngestWorker:
        """``dead_first``: a closed port listed before the broker (a cluster node that is down)."""
        first = broker.port if dead_first is None else dead_first
        fallbacks = () if dead_first is None else (("127.0.0.1", broker.port),)
        w = pg_worker(
            broker, pki, dsn, keys_dir, client_id, port=first, fallbacks=fallbacks, batch=batch
        )
        w.start()
        wait_for(w.connected.is_set, 10, f"{client_id} to connect")
        time.sleep(0.2)  # SUBACK
        started.append(w)
        return w

    yield start
    for w in started:
        w.stop()


def rows(dsn: str) -> list[tuple[str, str]]:
    with psycopg.connect(dsn) as conn:
        return [(r[0], r[1]) for r in conn.execute("SELECT device_id, record_id FROM record")]


class Device:
    """A bare MQTT 5 device (its own certificate): publishes envelopes, collects its acks."""

    def __init__(self, broker: Broker, pki: Pki, keys_dir: Path, device_id: str) -> None:
        self.id = device_id
        self.key = Ed25519PrivateKey.generate()
        (keys_dir / f"{device_id}.pem").write_bytes(public_pem(self.key))
        self.portal_pub = load_portal_public_key(pki.portal_public)
        self.acks: list[dict[str, object]] = []
        self._got = threading.Event()
        cert = pki.device(device_id)
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=device_id, protocol=mqtt.MQTTv5)
        c.tls_set(ca_certs=str(pki.ca.ca_file), certfile=str(cert.cert), keyfile=str(cert.key))
        # one signed ack message may answer several records: keep one entry per record
        c.on_message = lambda _c, _u, m: self.acks.extend(json.loads(m.payload)["acks"])
        c.connect("127.0.0.1", broker.port)
        c.loop_start()
        c.subscribe(f"{PREFIX}/kiosk/{device_id}/ack", qos=1)
        time.sleep(0.3)
        self.client = c

    def envelope(self, record: dict[str, object]) -> tuple[str, bytes]:
        rid = uuid7(time.time(), os.urandom(10))
        env = seal(
            {"record_id": rid, **record},
            kind="registration",
            record_id=rid,
            device_id=self.id,
            portal_public_key=self.portal_pub,
            device_private_key=self.key,
        )
        return rid, env

    def frame(self, *envs: bytes) -> bytes:
        return frame(list(envs), kind="registration", device_id=self.id, key=self.key)

    def publish(self, rid: str | None, payload: bytes) -> None:
        """Publish a frame (or, for the hostile tests, any bytes) on the registration topic."""
        props = Properties(PacketTypes.PUBLISH)
        if rid is not None:
            props.CorrelationData = rid.encode()
        topic = f"{PREFIX}/kiosk/{self.id}/registration"
        self.client.publish(topic, payload, qos=1, properties=props)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def tampered(framed: bytes) -> bytes:
    """``framed`` with one character of its first ciphertext changed (same length, valid
    base64): what a forger without the device key can do to a frame on the way."""
    at = framed.index(b'"ct":"') + 6
    return framed[:at] + (b"B" if framed[at : at + 1] == b"A" else b"A") + framed[at + 1 :]


def test_filters_are_shared_and_leave_online_verification_out() -> None:
    shared = ingest_filters(PREFIX, "ingest")
    assert f"$share/ingest/{PREFIX}/kiosk/+/registration" in shared
    assert f"$share/ingest/{PREFIX}/kiosk/+/heartbeat" in shared
    assert not any("verify_request" in f for f in shared)
    assert ingest_filters(PREFIX, None)[0].startswith(PREFIX)


def test_two_workers_share_the_load_and_store_each_record_once(
    workers: WorkerFactory, pg_dsn: str, kiosk_config: KioskFactory, keys_dir: Path
) -> None:
    w1, w2 = workers("ingest-1"), workers("ingest-2")
    cfgs = [kiosk_config(f"kiosk-w{i}") for i in range(3)]
    ids: list[tuple[str, str]] = []
    ups = []
    for cfg in cfgs:
        key = load_or_create_device_key(cfg.paths.data_dir)
        (keys_dir / f"{cfg.device.id}.pem").write_bytes(public_pem(key))
        ids += [(cfg.device.id, r) for r in commit_registrations(cfg, 40)]
        ups.append(build_uplink(cfg, SystemClock()))
    for up in ups:
        up.start()
    try:
        for cfg in cfgs:
            repo = OutboxRepository(open_db(cfg))
            wait_for(lambda r=repo: r.counts().acked == 40, 60, f"{cfg.device.id} acked")
    finally:
        for up in ups:
            up.stop()
    assert sorted(rows(pg_dsn)) == sorted(ids)
    assert w1.counts.stored > 0, "the shared subscription gave one worker nothing"
    assert w2.counts.stored > 0, "the shared subscription gave one worker nothing"
    assert w1.counts.stored + w2.counts.stored == 120
    assert w1.counts.duplicates + w2.counts.duplicates == 0


def test_a_resent_record_is_acked_as_duplicate_and_stored_once(
    workers: WorkerFactory, broker: Broker, pki: Pki, keys_dir: Path, pg_dsn: str
) -> None:
    workers("ingest-1")
    dev = Device(broker, pki, keys_dir, "kiosk-dup")
    try:
        rid, env = dev.envelope({"nik": "3510010101900001"})
        dev.publish(rid, dev.frame(env))
        wait_for(lambda: len(dev.acks) == 1, 10, "first ack")
        dev.publish(rid, dev.frame(env))
        wait_for(lambda: len(dev.acks) == 2, 10, "second ack")
    finally:
        dev.close()
    assert [a["result"] for a in dev.acks] == ["stored", "duplicate"]
    assert rows(pg_dsn) == [("kiosk-dup", rid)]


def test_hostile_records_are_rejected_and_the_stream_goes_on(
    workers: WorkerFactory, broker: Broker, pki: Pki, keys_dir: Path, pg_dsn: str
) -> None:
    w = workers("ingest-1")
    dev = Device(broker, pki, keys_dir, "kiosk-bad")
    try:
        nul_rid, nul_env = dev.envelope({"nik": "a\u0000b"})
        bad_rid, bad_env = dev.envelope({"nik": "x"})
        # tampered on the way: the frame signature covers the envelope's bytes
        forged = tampered(dev.frame(bad_env))
        good_rid, good_env = dev.envelope({"nik": "ok"})
        dev.publish(nul_rid, dev.frame(nul_env))
        dev.publish(bad_rid, forged)
        dev.client.publish(f"{PREFIX}/kiosk/kiosk-bad/registration", b"\xff not json", qos=1)
        dev.publish(good_rid, dev.frame(good_env))
        wait_for(lambda: len(dev.acks) == 3, 10, "three acks")
    finally:
        dev.close()
    results = {a["record_id"]: a["result"] for a in dev.acks}
    assert results == {nul_rid: "rejected", bad_rid: "rejected", good_rid: "stored"}
    assert rows(pg_dsn) == [("kiosk-bad", good_rid)]
    reasons = [reason for _d, _r, reason in w.store.rejections()]
    assert len(reasons) == 3 and "NUL" in reasons[0] and "signature" in reasons[1]


def test_a_forged_copy_of_a_held_record_is_answered_duplicate(
    workers: WorkerFactory, broker: Broker, pki: Pki, keys_dir: Path, pg_dsn: str
) -> None:
    w = workers("ingest-1")
    dev = Device(broker, pki, keys_dir, "kiosk-held")
    try:
        rid, env = dev.envelope({"nik": "3510010101900001"})
        dev.publish(rid, dev.frame(env))
        wait_for(lambda: len(dev.acks) == 1, 10, "first ack")
        dev.publish(rid, tampered(dev.frame(env)))  # bad signature
        other, other_env = dev.envelope({"nik": "x"})
        dev.publish(other, tampered(dev.frame(other_env)))
        wait_for(lambda: len(dev.acks) == 3, 10, "acks of the bad copies")
    finally:
        dev.close()
    # the kiosk must not drop a record the portal holds because a bad copy of it came in
    assert [(a["record_id"], a["result"]) for a in dev.acks] == [
        (rid, "stored"),
        (rid, "duplicate"),
        (other, "rejected"),
    ]
    assert rows(pg_dsn) == [("kiosk-held", rid)]
    assert len(w.store.rejections()) == 2


def test_worker_restart_resumes_its_persistent_session(
    workers: WorkerFactory, broker: Broker, pki: Pki, keys_dir: Path, pg_dsn: str
) -> None:
    w = workers("ingest-1")
    w.stop()  # the broker keeps the session and queues for it
    dev = Device(broker, pki, keys_dir, "kiosk-wait")
    try:
        sent = [dev.envelope({"i": i}) for i in range(20)]
        for rid, env in sent:
            dev.publish(rid, dev.frame(env))
        time.sleep(0.5)
        assert rows(pg_dsn) == []
        workers("ingest-1")
        wait_for(lambda: len(dev.acks) == 20, 20, "acks after the restart")
    finally:
        dev.close()
    assert sorted(r for _d, r in rows(pg_dsn)) == sorted(rid for rid, _e in sent)


def test_a_dead_node_in_the_list_is_passed_over(
    workers: WorkerFactory, broker: Broker, pki: Pki, keys_dir: Path, pg_dsn: str
) -> None:
    """A refused connect moves on to the next node: a worker whose turn comes to a dead
    cluster node does not knock on it until that node returns (the 600-kiosk stall)."""
    w = workers("ingest-1", dead_first=free_port())
    assert w.link.connected.is_set()
    dev = Device(broker, pki, keys_dir, "kiosk-dead-node")
    try:
        rid, env = dev.envelope({"i": 1})
        dev.publish(rid, dev.frame(env))
        wait_for(lambda: len(dev.acks) == 1, 20, "the ack through the live node")
    finally:
        dev.close()
    assert rows(pg_dsn) == [("kiosk-dead-node", rid)]


def test_database_outage_delays_acks_and_loses_nothing(
    workers: WorkerFactory, broker: Broker, pki: Pki, keys_dir: Path
) -> None:
    own = PgServer()  # a server of its own, to stop under the worker
    own.start()
    try:
        workers("ingest-1", dsn=own.dsn)
        dev = Device(broker, pki, keys_dir, "kiosk-pg")
        try:
            own.stop()
            sent = [dev.envelope({"i": i}) for i in range(10)]
            for rid, env in sent:
                dev.publish(rid, dev.frame(env))
            time.sleep(1.5)
            assert dev.acks == [], "acked while the database was down"
            own.start()
            wait_for(lambda: len(dev.acks) == 10, 30, "acks after the database returned")
        finally:
            dev.close()
        assert sorted(r for _d, r in rows(own.dsn)) == sorted(rid for rid, _e in sent)
    finally:
        own.remove()


def test_a_frame_of_many_records_is_stored_and_acked_per_record(
    workers: WorkerFactory, broker: Broker, pki: Pki, keys_dir: Path, pg_dsn: str
) -> None:
    """One signature for the frame; each record still stored once by (device, record id) and
    answered on its own; a record already held is ``duplicate`` inside a later frame."""
    w = workers("ingest-1")
    dev = Device(broker, pki, keys_dir, "kiosk-many")
    try:
        made = [dev.envelope({"nik": f"35100101019{i:05d}"}) for i in range(5)]
        dev.publish(None, dev.frame(*[e for _r, e in made[:3]]))
        wait_for(lambda: len(dev.acks) == 3, 10, "three acks")
        dev.publish(None, dev.frame(*[e for _r, e in made[2:]]))  # made[2] again
        wait_for(lambda: len(dev.acks) == 6, 10, "six acks")
    finally:
        dev.close()
    ids = [r for r, _e in made]
    assert [(a["record_id"], a["result"]) for a in dev.acks] == [
        *[(r, "stored") for r in ids[:3]],
        (ids[2], "duplicate"),
        *[(r, "stored") for r in ids[3:]],
    ]
    assert sorted(rows(pg_dsn)) == sorted(("kiosk-many", r) for r in ids)
    assert w.counts.stored == 5 and w.counts.duplicates == 1


def test_uplink_format_1_and_foreign_frames_are_refused(
    workers: WorkerFactory, broker: Broker, pki: Pki, keys_dir: Path, pg_dsn: str
) -> None:
    """A bare envelope (format 1) is refused and NOT acked (an old kiosk keeps its record and
    resends until updated); a frame naming another device, or correlation data beside several
    records, is refused with a signed ``rejected`` for each record it names."""
    w = workers("ingest-1")
    dev = Device(broker, pki, keys_dir, "kiosk-old")
    other = Device(broker, pki, keys_dir, "kiosk-near")
    try:
        old_rid, old_env = dev.envelope({"nik": "1"})
        dev.publish(old_rid, old_env)  # format 1
        r1, e1 = dev.envelope({"nik": "2"})
        r2, e2 = dev.envelope({"nik": "3"})
        dev.publish(r1, dev.frame(e1, e2))  # correlation beside two records
        r3, e3 = dev.envelope({"nik": "4"})
        stolen = frame([e3], kind="registration", device_id="kiosk-near", key=other.key)
        dev.publish(None, stolen)  # another device's frame on this device's topic
        good_rid, good_env = dev.envelope({"nik": "ok"})
        dev.publish(good_rid, dev.frame(good_env))
        wait_for(lambda: len(dev.acks) == 4, 10, "four acks")
        time.sleep(0.3)
    finally:
        dev.close()
        other.close()
    results = {a["record_id"]: a["result"] for a in dev.acks}
    assert results == {r1: "rejected", r2: "rejected", r3: "rejected", good_rid: "stored"}
    assert old_rid not in results
    assert rows(pg_dsn) == [("kiosk-old", good_rid)]
    reasons = [reason for _d, _r, reason in w.store.rejections()]
    assert any("format 1" in r for r in reasons)
    assert any("does not match the topic" in r for r in reasons)
