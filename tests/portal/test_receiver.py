"""The reference receiver over a real broker: refusals are explicit, never silent loops."""

from __future__ import annotations

import json

import paho.mqtt.client as mqtt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.core.clock import SystemClock
from kiosk.crypto.envelope import ALGORITHM
from kiosk.crypto.frame import frame
from kiosk.crypto.keys import public_pem
from kiosk.store.outbox import OutboxRepository
from kiosk.uplink.service import build_uplink
from portal.link import Msg
from tests.fixtures.mqtt import PREFIX, Broker, KioskFactory, Portal, wait_for
from tests.fixtures.records import commit_registrations, open_db

pytestmark = pytest.mark.broker


def test_unenrolled_key_is_rejected_and_record_dead(
    portal: Portal, kiosk_config: KioskFactory
) -> None:
    cfg = kiosk_config()
    # the portal knows a different key for this device (e.g. the SD card was re-flashed)
    (portal.keys_dir / f"{cfg.device.id}.pem").write_bytes(public_pem(Ed25519PrivateKey.generate()))
    (rid,) = commit_registrations(cfg, 1)
    up = build_uplink(cfg, SystemClock())
    alerts: list[tuple[str, str]] = []
    up.on_alert(lambda r, why: alerts.append((r, why)))
    up.start()
    try:
        wait_for(lambda: OutboxRepository(open_db(cfg)).counts().dead == 1, 20, "dead record")
    finally:
        up.stop()
    assert alerts and alerts[0][0] == rid and "not enrolled" in alerts[0][1]
    assert portal.rx is not None and portal.rx.store.rejections()[0][1] == rid
    assert portal.record_ids() == []


def test_portal_restart_keeps_its_session(
    broker: Broker, portal: Portal, kiosk_config: KioskFactory
) -> None:
    cfg = kiosk_config()
    portal.enroll(cfg)
    portal.stop()  # records published now wait in the portal's persistent session
    ids = commit_registrations(cfg, 30)
    up = build_uplink(cfg, SystemClock())
    up.start()
    try:
        wait_for(lambda: OutboxRepository(open_db(cfg)).counts().sent >= 1, 20, "published")
        portal.start()
        wait_for(lambda: OutboxRepository(open_db(cfg)).counts().acked == 30, 30, "acked")
    finally:
        up.stop()
    assert sorted(portal.record_ids()) == sorted(ids)


def test_a_bad_copy_of_a_record_already_held_is_answered_duplicate(
    portal: Portal, kiosk_config: KioskFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = kiosk_config()
    portal.enroll(cfg)
    (held,) = commit_registrations(cfg, 1)
    up = build_uplink(cfg, SystemClock())
    up.start()
    try:
        wait_for(lambda: OutboxRepository(open_db(cfg)).counts().acked == 1, 20, "acked")
    finally:
        up.stop()
    rx = portal.rx
    assert rx is not None
    answers: list[tuple[str, str]] = []
    monkeypatch.setattr(
        rx.link,
        "publish",
        lambda _topic, payload, **_kw: answers.extend(
            (e["record_id"], e["result"]) for e in json.loads(payload)["acks"]
        ),
    )
    other = "01930000-0000-7000-8000-000000000077"

    def garbage(rid: str) -> Msg:  # a frame naming ``rid`` that no enrolled key signed
        body = {
            "alg": ALGORITHM, "ct": "AA==", "device_id": cfg.device.id, "epk": "AA==",
            "kid": "x", "kind": "registration", "nonce": "AA==", "record_id": rid,
            "sig": "AA==", "v": 1, "wk": "AA==",
        }  # fmt: skip
        topic = f"{PREFIX}/kiosk/{cfg.device.id}/registration"
        payload = frame([json.dumps(body).encode()], kind="registration",
                        device_id=cfg.device.id, key=Ed25519PrivateKey.generate())  # fmt: skip
        return Msg(topic, payload, None, 1, 0)

    rx.intake.process([garbage(held), garbage(other)])  # MQTT 3.1.1: no Correlation Data
    assert answers == [(held, "duplicate"), (other, "rejected")]
    assert portal.record_ids() == [held]


def test_one_signed_ack_message_per_batch_and_device(
    portal: Portal, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kiosk.uplink.replies import ACKS_PER_MESSAGE

    rx = portal.rx
    assert rx is not None
    sent: list[tuple[str, bytes]] = []

    def publish(topic: str, payload: bytes, **_kw: object) -> mqtt.MQTTMessageInfo:
        sent.append((topic, payload))
        return mqtt.MQTTMessageInfo(len(sent))  # as paho's: the handle of a queued publish

    monkeypatch.setattr(rx.link.client, "publish", publish)
    rids = [f"01930000-0000-7000-8000-{i:012d}" for i in range(ACKS_PER_MESSAGE + 50)]
    rx.intake.publish_acks(
        "kiosk-a-01", [(None, {"record_id": r, "result": "stored"}) for r in rids]
    )
    rx.intake.publish_acks(
        "kiosk-b-02",
        [
            (None, {"record_id": rids[0], "result": "rejected", "reason": "bad"}),
            (None, {"record_id": None, "result": "x"}),
        ],
    )
    topics = [t for t, _p in sent]
    assert topics == [f"{PREFIX}/kiosk/kiosk-a-01/ack"] * 2 + [f"{PREFIX}/kiosk/kiosk-b-02/ack"]
    bodies = [json.loads(p) for _t, p in sent]
    assert [len(b["acks"]) for b in bodies] == [ACKS_PER_MESSAGE, 50, 1]
    assert [e["record_id"] for b in bodies[:2] for e in b["acks"]] == rids
    assert bodies[2]["device_id"] == "kiosk-b-02" and bodies[2]["acks"][0]["reason"] == "bad"
