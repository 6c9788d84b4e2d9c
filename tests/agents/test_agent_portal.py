"""Roster edits, a vouch and the audit chain travel kiosk -> mosquitto (TLS) -> the reference
portal receiver; the portal's roster desk answers with a signed update the kiosk merges."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from kiosk.agents import AgentService
from kiosk.agents.downlink import HouseholdUpdateHandler
from kiosk.core.audit import AuditEntry, verify
from kiosk.core.clock import SystemClock
from kiosk.core.roster import Action
from kiosk.crypto.atrest import AtRestCipher, load_or_create_key
from kiosk.crypto.envelope import sealer_from_config
from kiosk.references.message import load_trusted_keys, portal_signing_key_path
from kiosk.store.outbox import OutboxRepository
from kiosk.uplink.service import build_uplink
from portal.roster import RosterDesk, publish_update
from tests.fixtures.app import compose
from tests.fixtures.community import roster_member
from tests.fixtures.mqtt import Portal, wait_for
from tests.fixtures.records import open_db

pytestmark = pytest.mark.broker

KK = "3510011203150001"


def service(cfg: Any, conn: sqlite3.Connection) -> AgentService:
    """The kiosk's agent service over ``conn``, as the composition root builds it."""
    cipher = AtRestCipher(load_or_create_key(cfg.paths.data_dir / "keys" / "data.key"))
    graph = compose(cfg, conn, SystemClock(), sealer=sealer_from_config(cfg), cipher=cipher)
    return graph.agents(lambda template: "HIGH")


def stored(portal: Portal, kind: str) -> list[dict[str, Any]]:
    conn = sqlite3.connect(portal.db)
    try:
        rows = conn.execute(
            "SELECT record FROM record WHERE kind = ? ORDER BY received_at, rowid", (kind,)
        ).fetchall()
    finally:
        conn.close()
    return [json.loads(r[0]) for r in rows]


def test_roster_edits_reach_the_portal_and_its_update_comes_back(
    portal: Portal,
    kiosk_config: Any,
    tmp_path: Path,
) -> None:
    cfg = kiosk_config()
    portal.enroll(cfg)
    conn = open_db(cfg)
    svc = service(cfg, conn)
    svc.accounts.enrol("AG-DW-01", "dasa_wisma", "Bu Sri", "246801", b"\x00\x00\x80?" * 128)
    token = svc.login("AG-DW-01", "246801")
    member = roster_member(illnesses=[])
    h = svc.save_household(token, {"kk": KK, "members": [member], "crops": ["rice"]})
    hid = h.household_id
    svc.save_household(
        token, {"household_id": hid, "kk": KK, "members": [member], "crops": ["rice", "corn"]}
    )
    assert svc.flush_audit() is not None

    signing_key = Ed25519PrivateKey.generate()
    # installed beside the fixture portal's reply key, as during a key change-over
    keyfile = portal_signing_key_path(cfg.paths.data_dir).with_name("portal_ed25519.next.pub.pem")
    keyfile.write_bytes(
        signing_key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    )
    up = build_uplink(cfg, SystemClock())
    handler = HouseholdUpdateHandler(svc, lambda: load_trusted_keys(cfg.paths.data_dir))
    up.on_signed("household_update", handler)
    up.start()
    try:
        wait_for(lambda: OutboxRepository(open_db(cfg)).counts().acked == 3, 30, "3 acked")
        edits = stored(portal, "household")
        assert [e["household"]["crops"] for e in edits] == [["rice"], ["corn", "rice"]]
        assert edits[1]["edits"][0]["agent_id"] == "AG-DW-01"

        # the audit batch arrived intact: the portal can verify the chain and its head
        [batch] = stored(portal, "audit")
        entries = [AuditEntry(*e) for e in batch["entries"]]
        report = verify(entries)
        assert report.ok and report.head == batch["head_hash"]
        assert KK not in json.dumps(batch) and "Siti" not in json.dumps(batch)

        # the portal desk folds the edits, staff correct the name (identity) and the crops
        desk = RosterDesk(tmp_path / "desk.sqlite3")
        assert desk.ingest(portal.db) == [hid] and desk.version(hid) == 2
        message = desk.edit(hid, {"members.m1.name": "Siti Aminah Binti Ali", "crops": ["coffee"]})
        assert message["version"] == 3

        # meanwhile the cadre changed the crops again, later than the portal's change
        svc.save_household(
            token, {"household_id": hid, "kk": KK, "members": [member], "crops": ["cassava"]}
        )
        publish_update(portal.rx, cfg.device.id, message, signing_key)
        wait_for(lambda: svc.household(token, hid).version == 3, 30, "signed update applied")
        mine = svc.household(token, hid)
        assert mine.household.members[0].name == "Siti Aminah Binti Ali"  # identity: portal
        assert mine.household.crops == ("cassava",)  # newer local edit wins and is re-sent
        history = svc.roster_history(token, hid)
        assert Action.CONFLICT_LOCAL_NEWER in {c.action for c in history}
        wait_for(lambda: len(stored(portal, "household")) == 4, 30, "re-sent edit")
        assert desk.ingest(portal.db) == [hid]
        final = desk.get(hid)
        assert final is not None and final.crops == ("cassava",)
        assert final.members[0].name == "Siti Aminah Binti Ali"
        desk.close()
    finally:
        up.stop()
    assert svc.verify_audit().ok
