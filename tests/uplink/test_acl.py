"""The broker ACL generated from the topic table, enforced by a real mosquitto."""

from __future__ import annotations

import json
import queue

from kiosk.uplink.client import Event, MqttLink, PubAck
from kiosk.uplink.topics import TOPICS, Direction, broker_acl
from tests.fixtures.mqtt import PREFIX, KioskFactory, Portal, wait_for

NOT_AUTHORIZED = 0x87


def test_acl_lets_a_kiosk_write_only_up_and_read_only_down() -> None:
    acl = broker_acl("p/v1").splitlines()
    device_lines = [line for line in acl if line.startswith("pattern ")]
    assert len(device_lines) == len(TOPICS)
    for t in TOPICS.values():
        access = "write" if t.direction is Direction.UP else "read"
        assert f"pattern {access} p/v1/kiosk/%u/{t.name}" in device_lines
    assert not any("#" in line for line in device_lines)  # no wildcard for devices
    assert acl[:2] == ["user portal", "topic readwrite p/v1/kiosk/#"]


def _link(cfg_factory: KioskFactory, portal: Portal) -> tuple[MqttLink, queue.Queue[Event]]:
    cfg = cfg_factory("kiosk-acl-01")
    portal.enroll(cfg)
    events: queue.Queue[Event] = queue.Queue()
    link = MqttLink(cfg.uplink, cfg.device.id, events.put)
    link.start()
    wait_for(lambda: link.connected, 10, "the kiosk to connect")
    return link, events


def _puback(events: queue.Queue[Event], mid: int) -> PubAck:
    while True:
        event = events.get(timeout=10)
        if isinstance(event, PubAck) and event.mid == mid:
            return event


def test_a_kiosk_cannot_acknowledge_its_own_records(
    portal: Portal, kiosk_config: KioskFactory
) -> None:
    link, events = _link(kiosk_config, portal)
    try:
        forged = json.dumps({"v": 1, "record_id": "x", "result": "stored", "at": 1}).encode()
        for name in ("ack", "roster", "config"):  # portal->kiosk topics of its own
            mid = link.publish_json(name, forged)
            assert mid is not None
            assert _puback(events, mid).reason_code == NOT_AUTHORIZED, name
        heartbeat = link.publish_json("heartbeat", b"{}")  # its own kiosk->portal topic
        assert heartbeat is not None and _puback(events, heartbeat).reason_code < 0x80
    finally:
        link.stop()


def test_a_kiosk_cannot_write_another_kiosks_topics(
    portal: Portal, kiosk_config: KioskFactory
) -> None:
    link, events = _link(kiosk_config, portal)
    try:
        other = f"{PREFIX}/kiosk/kiosk-other/registration"
        info = link._client.publish(other, b"sealed?", qos=1)
        assert _puback(events, int(info.mid)).reason_code == NOT_AUTHORIZED
    finally:
        link.stop()
