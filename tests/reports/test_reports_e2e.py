"""The new kinds over a real mosquitto (TLS, ACL from the topic table) and the reference portal:
the signed recipient list reaches the kiosk (a forged or over-size one does not replace it),
reports and proposals are sealed, stored once and acked (a spoken note with them), and an invalid
one (or one with an over-size spoken note) is refused."""

from __future__ import annotations

import os
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.audio.tone import ToneMicrophone
from kiosk.config import KioskConfig
from kiosk.core import voice
from kiosk.core.clock import SystemClock
from kiosk.core.ids import uuid7
from kiosk.crypto.atrest import AtRestCipher
from kiosk.crypto.envelope import sealer_from_config
from kiosk.references.message import load_trusted_keys
from kiosk.reports.recipients import sign_list
from kiosk.reports.service import Reporter
from kiosk.store.outbox import OutboxRepository
from kiosk.uplink.service import build_uplink
from kiosk.uplink.topics import TOPICS, device_topic
from tests.fixtures.app import compose
from tests.fixtures.mqtt import KioskFactory, Portal, wait_for
from tests.fixtures.records import open_db

pytestmark = pytest.mark.broker

NIK = "3510014501580001"
PIN = "135790"


def body(
    village: str, version: int, names: tuple[str, ...] = ("Pak Slamet", "Bu Painem")
) -> dict[str, Any]:
    return {
        "village_code": village,
        "list_version": version,
        "issued_at": 1_780_000_000,
        "dusun": ["Krajan", "Sumberejo"],
        "households": [
            {"ref": f"R{i}", "name": n, "dusun": "Krajan", "rt": "1", "programmes": ["pkh"]}
            for i, n in enumerate(names)
        ],
    }


def test_recipient_list_reports_and_proposals_end_to_end(
    portal: Portal, kiosk_config: KioskFactory
) -> None:
    cfg: KioskConfig = kiosk_config()
    portal.enroll(cfg)
    clock = SystemClock()
    up = build_uplink(cfg, clock)
    conn = open_db(cfg)
    sealer = sealer_from_config(cfg)
    outbox = OutboxRepository(conn, on_commit=up.notify)
    cipher = AtRestCipher(os.urandom(32))
    graph = compose(cfg, conn, clock, sealer=sealer, cipher=cipher, outbox=outbox)
    agents = graph.agents(lambda template: "HIGH")
    agents.accounts.enrol("AG-PKH-01", "pkh", "Bu Rina", PIN, bytes(512))
    community = graph.community(
        agents, trusted=lambda: load_trusted_keys(cfg.paths.data_dir), uplink=up
    )
    village = cfg.device.village_code
    up.start()
    try:
        wait_for(lambda: up.online, 10, "kiosk online")
        assert portal.rx is not None
        portal.rx.send_recipients(cfg.device.id, body(village, 1))
        wait_for(lambda: community.recipients() is not None, 10, "recipient list installed")
        topic = device_topic("perlinsos/v1", cfg.device.id, "recipients")
        # forged (another key), over-size, and for another village: all refused, v1 stays
        forged = sign_list(body(village, 5, ("Orang Palsu",)), Ed25519PrivateKey.generate())
        portal.rx.publish_raw(topic, forged, retain=True)
        portal.rx.publish_raw(
            topic, b"{" + b" " * TOPICS["recipients"].max_bytes + b"}", retain=True
        )
        portal.rx.send_recipients(cfg.device.id, body("3510012099", 6))
        # one subscriber, one topic, QoS 1: delivered in order, so once v2 is in, the three
        # before it were seen and refused (the list never became v5 or v6)
        portal.rx.send_recipients(cfg.device.id, body(village, 2, ("Pak Slamet",)))
        wait_for(lambda: community.recipients().version == 2, 10, "v2 installed")  # type: ignore[union-attr]
        lst = community.recipients()
        assert lst is not None and [h.name for h in lst.households] == ["Pak Slamet"]
        assert up.rejected_inbound >= 1  # the over-size one, refused before any parsing

        token = agents.login("AG-PKH-01", PIN)
        spoken = voice.check_note(ToneMicrophone(2.0).start(60).stop())
        report_id = community.report(
            Reporter(token, NIK),
            ref="R0",
            reason="deceased",
            note="meninggal bulan lalu",
            voice=spoken,
        )
        proposal_id = community.propose(
            Reporter(token), reasons=["bedridden"], name="Mbah Karto", dusun="Sumberejo", rt="3"
        )
        wait_for(lambda: OutboxRepository(open_db(cfg)).counts().acked >= 2, 20, "both acked")
        stored = portal.rx.store.get(cfg.device.id, report_id)
        assert stored is not None and stored["reporter"] == {"nik": NIK, "agent_id": "AG-PKH-01"}
        assert stored["household_ref"] == "R0" and stored["reason"] == "deceased"
        assert stored["voice_note"] == voice.sealed_form(spoken)  # the portal keeps the note
        stored = portal.rx.store.get(cfg.device.id, proposal_id)
        assert stored is not None and stored["household"]["name"] == "Mbah Karto"
        # the broker saw only ciphertext: the kiosk's outbox row holds no readable NIK
        raw = conn.execute(
            "SELECT payload FROM outbox WHERE record_id = ?", (report_id,)
        ).fetchone()[0]
        assert NIK.encode() not in raw and b"Mbah" not in raw

        # a record whose content breaks its schema is refused by the portal, never stored
        bad_id = uuid7(clock.now(), os.urandom(10))
        bad = {"record_id": bad_id, "kind": "proposal", "household": {"name": "x" * 500}}
        outbox.enqueue(bad_id, "proposal", sealer.seal("proposal", bad_id, bad), clock.now())
        wait_for(lambda: OutboxRepository(open_db(cfg)).counts().dead == 1, 20, "refused")
        assert portal.rx.store.get(cfg.device.id, bad_id) is None
        # a spoken note over the bound is refused by the portal too (not only by the kiosk)
        big_id = uuid7(clock.now(), os.urandom(10))
        big = dict(stored, record_id=big_id)
        big["voice_note"] = dict(
            voice.sealed_form(spoken) or {}, data="A" * (voice.MAX_BASE64_CHARS + 4)
        )
        outbox.enqueue(big_id, "proposal", sealer.seal("proposal", big_id, big), clock.now())
        wait_for(lambda: OutboxRepository(open_db(cfg)).counts().dead == 2, 20, "refused")
        assert portal.rx.store.get(cfg.device.id, big_id) is None
    finally:
        up.stop()
