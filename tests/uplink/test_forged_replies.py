"""Forged portal replies from an anonymous client on an open broker (the demo broker has no
ACL): every one refused, counted by reason, and no record lost."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.core.clock import SystemClock
from kiosk.crypto.keys import load_signing_private_key
from kiosk.uplink.inbound import ConfigUpdate, RosterUpdate
from kiosk.uplink.replies import sign_reply
from kiosk.uplink.service import build_uplink
from kiosk.uplink.topics import device_topic
from tests.fixtures.mqtt import (
    PREFIX,
    Broker,
    KioskFactory,
    Pki,
    Portal,
    anonymous_client,
    outbox_counts,
    publish,
    wait_for,
)
from tests.fixtures.records import commit_registrations, open_db

pytestmark = pytest.mark.broker


counts = outbox_counts


@pytest.fixture
def broker(tmp_path: Path, pki: Pki) -> Iterator[Broker]:
    """Overrides the TLS broker: the anonymous demo broker (no ACL at all)."""
    b = Broker(tmp_path / "open-broker", pki, anonymous=True)
    b.start()
    yield b
    b.stop()


def test_forged_replies_on_an_open_broker_are_refused_and_nothing_is_lost(
    broker: Broker, portal: Portal, kiosk_config: KioskFactory, pki: Pki
) -> None:
    cfg = kiosk_config()
    portal.enroll(cfg)
    portal.stop()  # no genuine ack until the end: only forgeries reach the kiosk
    ids = commit_registrations(cfg, 6)
    up = build_uplink(cfg, SystemClock())
    configs: list[ConfigUpdate] = []
    rosters: list[RosterUpdate] = []
    up.on_config(configs.append)
    up.on_roster(rosters.append)
    up.start()
    forger = anonymous_client(broker.port)
    rogue = Ed25519PrivateKey.generate()
    genuine = load_signing_private_key(pki.signing_private)
    dev = cfg.device.id

    def topic(name: str) -> str:
        return device_topic(PREFIX, dev, name)

    def ack(rid: str, result: str) -> dict[str, object]:
        return {"v": 1, "at": time.time(), "acks": [{"record_id": rid, "result": result}]}

    agent = {"agent_id": "evil", "pin_hash": "x" * 32, "valid_until": 4e9, "role": "operator"}
    try:
        wait_for(lambda: counts(cfg)[2] == 6 and up.online, 20, "records published")
        forgeries = [
            # the old, unsigned formats
            ("ack", json.dumps(ack(ids[0], "stored")).encode()),
            ("ack", json.dumps(ack(ids[1], "rejected")).encode()),
            (
                "status",
                json.dumps(
                    {"v": 1, "record_id": ids[2], "status": "not_eligible", "reason": "x", "at": 1}
                ).encode(),
            ),
            ("config", b'{"v":1,"config_version":99,"settings":{"registration_open":false}}'),
            ("roster", json.dumps({"v": 1, "roster_version": 99, "agents": [agent]}).encode()),
            # signed, but by a key the kiosk does not trust
            ("ack", sign_reply("ack", dev, ack(ids[0], "stored"), rogue)),
            ("ack", sign_reply("ack", dev, ack(ids[1], "rejected"), rogue)),
            (
                "config",
                sign_reply("config", dev, {"v": 1, "config_version": 99, "settings": {}}, rogue),
            ),
            (
                "roster",
                sign_reply("roster", dev, {"v": 1, "roster_version": 99, "agents": [agent]}, rogue),
            ),
            # genuine signature, body altered afterwards
            (
                "ack",
                sign_reply("ack", dev, ack(ids[3], "duplicate"), genuine).replace(
                    ids[3].encode(), ids[4].encode()
                ),
            ),
            # genuine, but signed for another kiosk (a replay across devices)
            ("ack", sign_reply("ack", "kiosk-other-99", ack(ids[5], "stored"), genuine)),
        ]
        for name, payload in forgeries:
            publish(forger, topic(name), payload, retain=name in ("config", "roster"))
        wait_for(lambda: up.rejected_inbound >= len(forgeries), 20, "every forgery refused")
        report = up.inbound_report()
        assert report["unsigned"] == 5
        assert report["unknown_key"] == 4
        assert report["bad_signature"] == 1
        assert report["wrong_device"] == 1
        acked, dead, waiting = counts(cfg)
        assert (acked, dead, waiting) == (0, 0, 6)  # nothing acked, nothing dead
        status = open_db(cfg).execute(
            "SELECT status FROM registration WHERE record_id = ?", (ids[2],)
        )
        assert status.fetchone()[0] == "waiting"
        assert configs == [] and rosters == []
        portal.start()  # the genuine portal: every record arrives once
        wait_for(lambda: counts(cfg)[0] == 6, 30, "genuine acks")
        assert sorted(portal.record_ids(dev)) == sorted(ids)
        assert portal.rx is not None
        portal.rx.send_config(dev, 2, {"registration_open": True})  # genuine: applied
        wait_for(lambda: configs, 10, "genuine config")
        assert configs[0].version == 2
    finally:
        forger.loop_stop()
        forger.disconnect()
        up.stop()
