"""Weeks without network: reports and proposals go to the portal on the USB stick like every
record kind, the portal checks their content the same way, and the acks come home."""

from __future__ import annotations

import os
from pathlib import Path

from report_helpers import NIK, PIN, TEMPLATE, households

from kiosk.core.clock import SystemClock
from kiosk.core.ids import uuid7
from kiosk.crypto.atrest import AtRestCipher
from kiosk.crypto.envelope import sealer_from_config
from kiosk.crypto.signed import sign_message
from kiosk.reports.recipients import RecipientInbox, RecipientStore
from kiosk.reports.service import Reporter
from tests.fixtures.app import compose
from tests.fixtures.records import open_db
from tests.fixtures.usb import bring_acks_home, export, make_portal, offline_kiosk


def test_reports_and_proposals_travel_on_the_stick(tmp_path: Path) -> None:
    portal = make_portal(tmp_path / "portal")
    cfg = offline_kiosk(tmp_path, portal)
    clock = SystemClock()
    sealer = sealer_from_config(cfg)
    graph = compose(cfg, open_db(cfg), clock, sealer=sealer, cipher=AtRestCipher(os.urandom(32)))
    conn, outbox = graph.conn, graph.outbox
    agents = graph.agents(lambda template: "HIGH")
    agents.accounts.enrol("AG-PKH-01", "pkh", "Bu Rina", PIN, TEMPLATE)
    store = RecipientStore(conn, graph.cipher, clock)
    village = cfg.device.village_code
    inbox = RecipientInbox(
        store, trusted=lambda: [portal.signing_key.public_key()], village_code=village
    )
    body = {
        "v": 1,
        "kind": "recipients",
        "village_code": village,
        "list_version": 1,
        "issued_at": 1_780_000_000,
        "dusun": ["Krajan", "Sumberejo", "Tegalsari"],
        "households": households(4),
    }
    assert inbox(sign_message(body, portal.signing_key))  # e.g. carried on the stick too
    svc = graph.community(agents)
    token = agents.login("AG-PKH-01", PIN)
    report_id = svc.report(Reporter(token, NIK), ref="H0002", reason="moved")
    proposal_id = svc.propose(
        Reporter(token), reasons=["disaster"], name="Pak Darmo", dusun="Krajan", rt="4"
    )
    bad_id = uuid7(clock.now(), os.urandom(10))  # content no kiosk should send
    bad = {"record_id": bad_id, "kind": "proposal", "reasons": []}
    outbox.enqueue(bad_id, "proposal", sealer.seal("proposal", bad_id, bad), clock.now())

    export(cfg)
    [report] = portal.import_stick(cfg.usb.mount_point)
    kinds = dict(conn.execute("SELECT kind, COUNT(*) FROM outbox GROUP BY kind").fetchall())
    assert (report.stored, report.rejected) == (sum(kinds.values()) - 1, 1), kinds
    stored = portal.store.get(cfg.device.id, report_id)
    assert stored is not None and stored["reporter"]["nik"] == NIK
    assert portal.store.get(cfg.device.id, proposal_id) is not None
    assert portal.store.get(cfg.device.id, bad_id) is None
    bring_acks_home(cfg)
    states = dict(conn.execute("SELECT record_id, state FROM outbox").fetchall())
    assert states[report_id] == "acked" and states[proposal_id] == "acked"
    assert states[bad_id] == "dead"
