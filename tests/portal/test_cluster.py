"""A 3-node RabbitMQ cluster (MQTT 3.1.1) between real kiosks and an ingest worker on
PostgreSQL: a node killed mid-drain, and every record is in the database exactly once.

The kiosks reach the cluster through a round-robin balancer (as in production): one sits on
the node that is killed, with the worker, and must come back on a live node, subscribe again
(its queue has a second copy) and get its acks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from kiosk.config import KioskConfig, parse_config
from kiosk.core.clock import SystemClock
from kiosk.crypto.keys import (
    load_or_create_device_key,
    load_portal_private_key,
    load_signing_private_key,
    public_pem,
)
from kiosk.store.outbox import OutboxRepository
from kiosk.uplink.service import build_uplink
from portal.ingest.store import open_store
from portal.ingest.worker import IngestWorker
from portal.receiver import device_keys_from_dir
from tests.fixtures.balancer import Balancer
from tests.fixtures.mqtt import Pki, install_portal_signing_key, wait_for
from tests.fixtures.rabbitmq import PASSWORD, USER, RabbitCluster, rabbitmq_missing
from tests.fixtures.records import commit_registrations, open_db

pytestmark = [pytest.mark.cluster, pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture(scope="module")
def cluster() -> Iterator[RabbitCluster]:
    """Three RabbitMQ nodes on loopback, clustered, MQTT queues mirrored."""
    missing = rabbitmq_missing()
    if missing:
        pytest.skip(missing)
    c = RabbitCluster(3)
    try:
        c.start()
        yield c
    finally:
        c.stop()


def kiosk(tmp_path: Path, pki: Pki, device_id: str, port: int) -> KioskConfig:
    """A kiosk speaking MQTT 3.1.1 to one cluster node (plain loopback: no TLS listener here)."""
    cfg = parse_config(
        {
            "device": {"id": device_id},
            "paths": {"data_dir": str(tmp_path / device_id)},
            "uplink": {
                "host": "127.0.0.1",
                "port": port,
                "protocol": "3.1.1",
                "portal_public_key": str(pki.portal_public),
                "keepalive_s": 5,
                "ack_timeout_s": 5.0,
                "backoff_initial_s": 0.2,
                "backoff_max_s": 2.0,
                "heartbeat_s": 5,
            },
        }
    )
    install_portal_signing_key(cfg, pki)
    return cfg


def test_cluster_has_three_running_nodes(cluster: RabbitCluster) -> None:
    assert len(cluster.running()) == 3


def test_node_kill_mid_drain_keeps_every_record_exactly_once(
    cluster: RabbitCluster, pki: Pki, pg_dsn: str, tmp_path: Path
) -> None:
    a, b, c = cluster.nodes
    keys = tmp_path / "device-keys"
    keys.mkdir()
    worker = IngestWorker(
        host="127.0.0.1",
        port=b.mqtt_port,
        fallbacks=(("127.0.0.1", c.mqtt_port), ("127.0.0.1", a.mqtt_port)),
        store=open_store("postgres", pg_dsn),
        private_key=load_portal_private_key(pki.portal_private),
        signing_key=load_signing_private_key(pki.signing_private),
        device_keys=device_keys_from_dir(keys),
        client_id="ingest-cluster-1",
        protocol="3.1.1",
        batch=64,
    )
    worker.credentials(USER, PASSWORD)
    worker.start()
    balancer = Balancer([a.mqtt_port, b.mqtt_port, c.mqtt_port])
    balancer.start()
    cfgs = [kiosk(tmp_path, pki, f"kiosk-rmq-{i}", balancer.port) for i in range(2)]
    committed: set[tuple[str, str]] = set()
    ups = []
    try:
        wait_for(worker.connected.is_set, 30, "worker subscribed on node b")
        for cfg in cfgs:
            key = load_or_create_device_key(cfg.paths.data_dir)
            (keys / f"{cfg.device.id}.pem").write_bytes(public_pem(key))
            committed |= {(cfg.device.id, r) for r in commit_registrations(cfg, 150)}
            ups.append(build_uplink(cfg, SystemClock()))
        repos = [OutboxRepository(open_db(cfg)) for cfg in cfgs]

        def acked() -> int:
            return sum(r.counts().acked for r in repos)

        for up in ups:
            up.start()
        wait_for(lambda: acked() >= 60, 90, "the drain under way")
        assert balancer.open_per_target()[1] == 1, "a kiosk on the node that dies"
        cluster.kill(b)  # the worker's node and a kiosk's die mid-drain
        assert acked() < 300, "drained before the kill: the test proves nothing"
        wait_for(lambda: acked() == 300, 150, "every record acked after the node kill")
        assert balancer.open_per_target()[1] == 0  # both kiosks on live nodes now
    finally:
        for up in ups:
            up.stop()
        worker.stop()
        balancer.stop()
    with psycopg.connect(pg_dsn) as conn:
        rows = [(d, r) for d, r in conn.execute("SELECT device_id, record_id FROM record")]
    assert len(rows) == len(set(rows)) == 300
    assert set(rows) == committed
