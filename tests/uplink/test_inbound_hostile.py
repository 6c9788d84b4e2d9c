"""Hostile inbound and hostile networks over a real mosquitto: retained poison across a restart,
MQTT 5 and 3.1.1, a refused subscription, a black-holed link."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from kiosk.config import UplinkConfig, parse_config
from kiosk.core.clock import SystemClock
from kiosk.crypto.envelope import sealer_from_config
from kiosk.crypto.keys import (
    generate_portal_key,
    load_portal_private_key,
    load_signing_private_key,
    public_pem,
)
from kiosk.store.outbox import OutboxRepository
from kiosk.uplink.service import Uplink, build_uplink
from kiosk.uplink.topics import TOPICS, Direction, device_topic
from portal.receiver import PortalReceiver, device_keys_from_dir
from tests.fixtures.mqtt import (
    PREFIX,
    Broker,
    KioskFactory,
    Pki,
    Portal,
    outbox_counts,
    wait_for,
)
from tests.fixtures.proxy import BlackholeProxy
from tests.fixtures.records import commit_registrations, open_db

pytestmark = pytest.mark.broker

POISON = b"[" * 100_000 + b"]" * 100_000
"""~200 kB of nested arrays: under the 256 KiB limit, and fatal to a recursive JSON parser."""

DOWN = [t.name for t in TOPICS.values() if t.direction is Direction.DOWN]


counts = outbox_counts


# --- retained poison on every inbound topic, across a kiosk restart ------------------------


def test_retained_poison_on_every_topic_cannot_stop_delivery_across_a_restart(
    portal: Portal, kiosk_config: KioskFactory
) -> None:
    cfg = kiosk_config()
    portal.enroll(cfg)
    assert portal.rx is not None
    for name in DOWN:  # retained, so every (re)connect reads it again
        portal.rx.publish_raw(device_topic(PREFIX, cfg.device.id, name), POISON, retain=True)
    ids = commit_registrations(cfg, 10)
    for round_ in range(2):  # the second run is the restart that used to die again
        up = build_uplink(cfg, SystemClock())
        up.start()
        try:
            wait_for(lambda u=up: u.inbound_report().get("too_deep", 0) >= len(DOWN), 20, "poison")
            ids += commit_registrations(cfg, 5)
            up.notify()
            n = len(ids)
            wait_for(lambda n=n: counts(cfg)[0] == n, 30, f"delivery in run {round_ + 1}")
            assert up.inbound_report()["too_deep"] == len(DOWN)
        finally:
            up.stop()
    assert sorted(portal.record_ids(cfg.device.id)) == sorted(ids)


def test_the_heartbeat_reports_refused_messages(portal: Portal, kiosk_config: KioskFactory) -> None:
    cfg = kiosk_config()
    portal.enroll(cfg)
    up = build_uplink(cfg, SystemClock())
    up.start()
    try:
        wait_for(lambda: up.online, 10, "online")
        assert portal.rx is not None
        portal.rx.publish_raw(device_topic(PREFIX, cfg.device.id, "status"), POISON)
        portal.rx.publish_raw(device_topic(PREFIX, cfg.device.id, "ack"), b'{"v":1}')

        def reported() -> bool:
            assert portal.rx is not None
            beat = portal.rx.store.latest_heartbeat(cfg.device.id)
            got = (beat or {}).get("inbound_refused", {})
            return got.get("too_deep") == 1 and got.get("unsigned") == 1

        wait_for(reported, 20, "refusals in the heartbeat")
    finally:
        up.stop()


# --- MQTT 3.1.1 ----------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
def test_each_protocol_version_delivers_once_and_marks_a_refused_record_dead(
    broker: Broker, pki: Pki, kiosk_config: KioskFactory, tmp_path: Path, protocol: str
) -> None:
    p = Portal(broker, pki, tmp_path / f"portal-{protocol}", protocol=protocol)
    p.start()
    cfg = kiosk_config(protocol=protocol)
    p.enroll(cfg)
    ids = commit_registrations(cfg, 20)
    # one record sealed to another portal's key: signed by the device, but undecryptable
    other = tmp_path / "other_portal.pub.pem"
    other.write_bytes(public_pem(generate_portal_key()))
    wrong = parse_config(
        {
            **cfg.model_dump(mode="json"),
            "uplink": {**cfg.uplink.model_dump(mode="json"), "portal_public_key": str(other)},
        }
    )
    (bad,) = commit_registrations(cfg, 1, sealer=sealer_from_config(wrong))
    up = build_uplink(cfg, SystemClock())
    alerts: list[tuple[str, str]] = []
    up.on_alert(lambda rid, why: alerts.append((rid, why)))
    up.start()
    try:
        wait_for(lambda: counts(cfg)[:2] == (20, 1), 30, f"delivery over MQTT {protocol}")
        assert alerts and alerts[0][0] == bad and "cannot be decrypted" in alerts[0][1]
        assert sorted(p.record_ids(cfg.device.id)) == sorted(ids)
        assert p.rx is not None
        p.rx.send_status(cfg.device.id, ids[0], "eligible")
        conn = open_db(cfg)
        wait_for(
            lambda: (
                conn.execute(
                    "SELECT status FROM registration WHERE record_id = ?", (ids[0],)
                ).fetchone()[0]
                == "eligible"
            ),
            10,
            "signed status over MQTT " + protocol,
        )
    finally:
        up.stop()
        p.stop()


# --- SUBACK ------------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
def test_a_refused_subscription_keeps_the_kiosk_offline_and_is_retried(
    tmp_path: Path, pki: Pki, protocol: str
) -> None:
    # the broker refuses the kiosk's ack subscription: SUBACK 0x87 (MQTT 5) / 0x80 (3.1.1)
    allowed = [f"{PREFIX}/kiosk/+/{n}" for n in DOWN if n != "ack"]
    b = Broker(tmp_path / "broker", pki, anonymous=True, subscribe_only=allowed)
    b.start()
    try:
        cfg = parse_config(
            {
                "device": {"id": "kiosk-suback-01"},
                "paths": {"data_dir": str(tmp_path / "k")},
                "uplink": {
                    "port": b.port,
                    "protocol": protocol,
                    "portal_public_key": str(pki.portal_public),
                },
            }
        )
        commit_registrations(cfg, 2)
        up = build_uplink(cfg, SystemClock())
        up.start()
        try:
            link = up._link
            wait_for(lambda: getattr(link, "suback_failures", 0) >= 1, 15, "SUBACK refusal")
            assert not up.online  # hearing nothing, it must not look online
            assert "refused" in (up.last_error or "")
            assert OutboxRepository(open_db(cfg)).counts().sent == 0  # nothing sent blind
            wait_for(lambda: getattr(link, "suback_failures", 0) >= 2, 15, "a retry")
            assert not up.online
        finally:
            up.stop()
        # the portal side: a refused subscription means "not connected"
        rx = PortalReceiver(
            host="127.0.0.1",
            port=b.port,
            db_path=tmp_path / "p.sqlite3",
            private_key=load_portal_private_key(pki.portal_private),
            signing_key=load_signing_private_key(pki.signing_private),
            device_keys=device_keys_from_dir(tmp_path),
            protocol=protocol,
        )
        rx.start()
        try:
            wait_for(lambda: rx.suback_failures >= 1, 15, "portal SUBACK refusal")
            assert not rx.connected.is_set()
        finally:
            rx.stop()
    finally:
        b.stop()


# --- dead link ---------------------------------------------------------------------------


def test_a_black_hole_is_noticed_within_20_s_by_default(
    broker: Broker, portal: Portal, kiosk_config: KioskFactory
) -> None:
    proxy = BlackholeProxy(broker.port)
    cfg = kiosk_config(port=proxy.port, keepalive_s=UplinkConfig().keepalive_s)
    portal.enroll(cfg)
    up: Uplink = build_uplink(cfg, SystemClock())
    up.start()
    try:
        wait_for(lambda: up.online, 15, "online")
        time.sleep(1.0)  # some idle time on the link, as in the field
        proxy.blackhole()
        t0 = time.monotonic()
        wait_for(lambda: not up.online, 25, "the dead link to be noticed")
        assert time.monotonic() - t0 <= 20.0
        proxy.restore()
        ids = commit_registrations(cfg, 3)
        up.notify()
        wait_for(lambda: counts(cfg)[0] == len(ids), 60, "drained after restore")
    finally:
        up.stop()
        proxy.close()
