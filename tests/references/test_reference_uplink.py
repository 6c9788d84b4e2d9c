"""References over the real broker: set pushed and revoked, online verify, pending verified."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from ref_helpers import template

from kiosk.config import KioskConfig
from kiosk.core.clock import SystemClock
from kiosk.core.ids import uuid7
from kiosk.crypto.atrest import AtRestCipher, load_or_create_key
from kiosk.crypto.envelope import sealer_from_config
from kiosk.crypto.keys import load_signing_private_key, public_pem
from kiosk.references.inbox import ReferenceInbox
from kiosk.references.message import load_trusted_keys, portal_signing_key_path
from kiosk.references.online import OnlineAnswer, OnlineVerifier
from kiosk.references.store import ReferenceStore
from kiosk.references.wiring import attach_to_uplink
from kiosk.store.registrations import RegistrationRepository
from kiosk.uplink.inbound import StatusUpdate
from kiosk.uplink.service import build_uplink
from portal.references import PortalReferences, RegistryEntry, make_signing_key
from tests.fixtures.mqtt import Pki, Portal, wait_for
from tests.fixtures.records import new_registration, open_db

pytestmark = pytest.mark.broker

RESIDENT = "3510011203850001"
ELSEWHERE = "3578014404900002"  # registered in another village: only the portal has it
UNKNOWN = "3510010101010003"


class Kiosk:
    """The kiosk side: uplink, reference store, inbox, online verifier."""

    def __init__(self, cfg: KioskConfig) -> None:
        clock = SystemClock()
        data = Path(cfg.paths.data_dir)
        cipher = AtRestCipher(load_or_create_key(data / "keys" / "data.key"))
        self.store = ReferenceStore(open_db(cfg), cipher, clock)
        self.uplink = build_uplink(cfg, clock)
        self.inbox = ReferenceInbox(
            self.store,
            trusted=lambda: load_trusted_keys(data),
            village_code=cfg.device.village_code,
            clock=clock,
        )
        self.online = OnlineVerifier(
            self.uplink,
            sealer_from_config(cfg),
            trusted=lambda: load_trusted_keys(data),
            device_id=cfg.device.id,
            village_code=cfg.device.village_code,
            clock=clock,
            timeout_s=10.0,
        )
        self.statuses: list[StatusUpdate] = []
        self.uplink.on_status(self.statuses.append)
        attach_to_uplink(self.uplink, self.inbox, self.online)


@pytest.fixture
def setup(portal: Portal, kiosk_config, pki: Pki, tmp_path: Path):
    cfg = kiosk_config()
    portal.enroll(cfg)
    key = load_signing_private_key(pki.signing_private)  # one portal key signs every reply
    dest = portal_signing_key_path(Path(cfg.paths.data_dir))
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(public_pem(key))
    refs = PortalReferences(key)
    refs.add(
        RESIDENT, RegistryEntry(cfg.device.village_code, "3510012001000001", "B.S.", template(1))
    )
    refs.add(ELSEWHERE, RegistryEntry("3578010001", "3578010001000002", "S.R.", template(2)))
    assert portal.rx is not None
    portal.rx.references = refs
    kiosk = Kiosk(cfg)
    kiosk.uplink.start()
    wait_for(lambda: kiosk.uplink.online, 15, "kiosk online")
    yield cfg, portal, refs, kiosk
    kiosk.uplink.stop()


def test_set_is_pushed_then_revoked(setup) -> None:
    cfg, portal, refs, kiosk = setup
    portal.rx.publish_references(cfg.device.id, refs.reference_set(cfg.device.village_code, 1))
    wait_for(lambda: kiosk.store.lookup(RESIDENT) is not None, 15, "set installed")
    ref = kiosk.store.lookup(RESIDENT)
    assert ref is not None and ref.template == template(1)
    assert kiosk.store.lookup(ELSEWHERE) is None  # another village's people are not sent
    portal.rx.publish_references(
        cfg.device.id, refs.revocation(cfg.device.village_code, 1, "registry correction")
    )
    wait_for(lambda: kiosk.store.lookup(RESIDENT) is None, 15, "set purged")
    info = kiosk.store.info()
    assert info is not None and info.state == "revoked"


def test_forged_set_is_rejected(setup, tmp_path: Path) -> None:
    cfg, portal, _refs, kiosk = setup
    rogue_key, _ = make_signing_key(tmp_path / "rogue")
    rogue = PortalReferences(rogue_key)
    rogue.add(
        RESIDENT, RegistryEntry(cfg.device.village_code, "3510012001000001", "X", template(5))
    )
    portal.rx.publish_references(cfg.device.id, rogue.reference_set(cfg.device.village_code, 9))
    wait_for(lambda: kiosk.inbox.rejected.get("unknown_key") == 1, 15, "rejection")
    assert kiosk.store.info() is None


def test_online_verification_round_trip(setup) -> None:
    _cfg, _portal, _refs, kiosk = setup
    answer = kiosk.online.verify(ELSEWHERE, template(2), "live", "passive")
    assert answer is not None and answer.match == "HIGH"
    other = kiosk.online.verify(ELSEWHERE, template(7), "live", "passive")
    assert other is not None and other.match in ("LOW", "NONE", "MEDIUM")
    none = kiosk.online.verify(UNKNOWN, template(2), "live", "passive")
    assert none == OnlineAnswer(None, none.request_id if none else "")


def test_pending_registration_is_verified_by_the_portal(setup) -> None:
    cfg, _portal, _refs, kiosk = setup
    now = time.time()
    rid = uuid7(now, os.urandom(10))
    record = {
        "record_id": rid,
        "nik": ELSEWHERE,
        "verification": {"outcome": "pending", "reference_source": "none"},
        "face_template": template(2).hex(),
        "clock": {"wall": now, "monotonic": time.monotonic(), "boot_id": "b", "synced": False},
    }
    payload = sealer_from_config(cfg).seal("registration", rid, record)
    RegistrationRepository(open_db(cfg)).commit(
        new_registration(rid, created_at=now),
        kind="registration",
        payload=payload,
    )
    kiosk.uplink.notify()
    wait_for(
        lambda: any(s.record_id == rid and s.status == "verified" for s in kiosk.statuses),
        20,
        "verified status",
    )
    row = (
        open_db(cfg)
        .execute("SELECT status FROM registration WHERE record_id = ?", (rid,))
        .fetchone()
    )
    assert row == ("verified",)
