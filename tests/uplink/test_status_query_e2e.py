"""Status from the portal and objections (sanggah) over the real broker.

A registration made at kiosk A is decided by the portal; at kiosk B the person types NIK +
receipt code and sees the portal's answer (signed, asked by NIK digest, never the NIK); an
objection filed at B travels through B's outbox, the portal stores, checks and decides it, and
the next status check shows its state. Forged answers, no answer and no link all fall back to
the kiosk's own record, saying so.
"""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

import pytest

from kiosk.config import KioskConfig
from kiosk.core.clock import SystemClock
from kiosk.core.portal_status import nik_digest
from kiosk.core.session import Outcome
from kiosk.crypto.atrest import keyed_hash
from kiosk.crypto.envelope import sealer_from_config
from kiosk.services.ports import FaceCheckResult
from kiosk.store.outbox import OutboxRepository
from kiosk.uplink.replies import sign_reply
from kiosk.uplink.service import build_uplink
from kiosk.uplink.status_query import PortalStatusQuery, attach
from kiosk.vision.fake import ScriptedVerifier
from portal.references import make_signing_key
from tests.fixtures.app import compose
from tests.fixtures.mqtt import Pki, Portal, install_portal_signing_key, wait_for
from tests.fixtures.records import open_db

pytestmark = pytest.mark.broker

NIK = "3510014507900001"
LOOKUP_KEY = b"l" * 32


PENDING = FaceCheckResult(Outcome.PENDING, b"\0" * 512, "none", None, "live", None)
"""A face check with no reference: the registration is captured pending."""


class Side:
    """One kiosk: uplink + registration, status and objection services on its own database."""

    def __init__(self, cfg: KioskConfig, *, timeout_s: float = 5.0) -> None:
        clock = SystemClock()
        self.cfg = cfg
        self.uplink = build_uplink(cfg, clock)
        conn = open_db(cfg)
        sealer = sealer_from_config(cfg)
        self.query = PortalStatusQuery(
            self.uplink,
            sealer,
            device_id=cfg.device.id,
            clock=clock,
            timeout_s=timeout_s,
        )
        attach(self.uplink, self.query)
        self.audit: list[tuple[str, str, str | None]] = []
        graph = compose(
            cfg,
            conn,
            clock,
            verifier=ScriptedVerifier(default=PENDING),
            sealer=sealer,
            outbox=OutboxRepository(conn, on_commit=self.uplink.notify),
            lookup_key=LOOKUP_KEY,
            portal_status=self.query,
            photo=lambda: b"\xff\xd8\xff\xe0 a document held up \xff\xd9",
            audit_tx=lambda _tx, *entry: self.audit.append(entry),
        )
        self.graph = graph
        self.repo, self.objections = graph.repo, graph.parts.objections
        self.registration, self.status, self.filing = graph.registration, graph.status, graph.filing
        self.uplink.on_config(lambda update: self.filing.apply_config(update.settings))

    def register(self) -> tuple[str, str]:
        """A whole registration; (receipt code, record id)."""
        receipt = self.graph.register(NIK)
        latest = self.repo.latest_for_nik(keyed_hash(LOOKUP_KEY, "nik", NIK))
        assert latest is not None and latest.receipt_no == receipt
        return receipt, latest.registration_id  # version 1: the record id

    def check(self, receipt: str) -> tuple[str, Any]:
        """A status check by NIK + code: (token, view)."""
        token = self.status.start()
        self.status.identify(token, NIK)
        answer = self.status.receipt(token, receipt)
        assert answer.result == "shown", answer
        return token, self.status.shown(token)


@pytest.fixture
def two_kiosks(portal: Portal, kiosk_config, pki: Pki):
    sides = []
    for device_id in ("kiosk-a-01", "kiosk-b-01"):
        cfg = kiosk_config(device_id)
        portal.enroll(cfg)
        install_portal_signing_key(cfg, pki)
        side = Side(cfg)
        side.uplink.start()
        sides.append(side)
    for side in sides:
        wait_for(lambda s=side: s.uplink.online, 15, "kiosk online")
    yield sides[0], sides[1], portal
    for side in sides:
        side.uplink.stop()


def test_status_from_the_portal_objection_round_trip(two_kiosks, pki: Pki) -> None:
    a, b, portal = two_kiosks
    assert portal.rx is not None
    receipt, record_id = a.register()
    wait_for(lambda: a.repo.delivery(record_id) == "acked", 20, "registration acked")

    # at kiosk B, before any decision: found at the portal, not at this kiosk
    _token, view = b.check(receipt)
    assert view.source == "portal" and view.records[0].status == "received"
    assert b.repo.by_nik("x") == []  # kiosk B holds no registration of its own

    portal.rx.send_status(a.cfg.device.id, record_id, "not_eligible", "income above the line")
    token, view = b.check(receipt)
    rec = view.records[0]
    assert (view.source, rec.status, rec.status_reason) == (
        "portal",
        "not_eligible",
        "income above the line",
    )
    target = b.status.target(token, rec.registration_id)
    assert target is not None and target.source == "portal"

    # file an objection at B with a note and a photographed document
    b.filing.begin(token, target)
    b.filing.choose_reason(token, "situation_changed")
    b.filing.set_note(token, "Suami saya sudah tidak bekerja sejak Oktober")
    assert b.filing.take_photo(token)
    objection_id = b.filing.submit(token)
    assert b.filing.submit(token) == objection_id  # a repeated "Send": the same objection
    wait_for(
        lambda: portal.rx is not None and objection_id in portal.rx.store.record_ids("kiosk-b-01"),
        20,
        "objection stored",
    )
    stored = portal.rx.store.get("kiosk-b-01", objection_id)
    assert stored is not None
    assert stored["nik_digest"] == nik_digest(NIK) and NIK not in json.dumps(stored)
    assert base64.b64decode(stored["evidence"]["data"]).startswith(b"\xff\xd8")
    assert portal.rx.status_desk.objection_state(objection_id) == ("received", None)

    # a second objection while the first is open is refused, at the kiosk
    token2, view = b.check(receipt)
    assert [o.state for o in view.objections] == ["received"]
    target = b.status.target(token2, rec.registration_id)
    assert target is not None and b.filing.refusal(target) == "already_open"

    # the office decides; the next status check shows it (and kiosk B's row learns it)
    assert portal.rx.status_desk.decide_objection(objection_id, "rejected", "bukti kurang")
    _t, view = b.check(receipt)
    assert [(o.state, o.state_reason) for o in view.objections] == [("rejected", "bukti kurang")]
    assert b.objections.for_registration(rec.registration_id)[0].state == "rejected"


def test_no_answer_forged_answer_and_offline_fall_back_to_the_kiosk_record(
    two_kiosks, tmp_path: Path
) -> None:
    a, _b, portal = two_kiosks
    assert portal.rx is not None
    receipt, record_id = a.register()
    wait_for(lambda: a.repo.delivery(record_id) == "acked", 20, "registration acked")

    # a portal that answers with a key the kiosk does not trust: refused, kiosk record
    rogue, _ = make_signing_key(tmp_path / "rogue")
    genuine = portal.rx.status_desk._key
    portal.rx.status_desk._key = rogue
    a.query.requests.timeout_s = 2.0
    _t, view = a.check(receipt)
    assert view.source == "kiosk" and a.uplink.inbound_report().get("unknown_key", 0) >= 1
    portal.rx.status_desk._key = genuine

    # an unsigned answer on the kiosk's reply topic changes nothing either
    before = a.uplink.inbound_report().get("unsigned", 0)
    portal.rx.publish_raw(
        f"perlinsos/v1/kiosk/{a.cfg.device.id}/status_reply", b'{"v":1,"result":"found"}'
    )
    wait_for(
        lambda: a.uplink.inbound_report().get("unsigned", 0) == before + 1,
        10,
        "unsigned reply refused",
    )

    # the portal gone: the kiosk's own record, at once (no wait without a link)
    portal.stop()
    a.uplink.stop()
    started = time.monotonic()
    _t, view = a.check(receipt)
    assert view.source == "kiosk" and view.records[0].receipt_no == receipt
    assert time.monotonic() - started < 1.0


def test_a_signed_config_sets_the_window_a_forged_one_does_not(two_kiosks, tmp_path: Path) -> None:
    a, _b, portal = two_kiosks
    assert portal.rx is not None
    rogue, _ = make_signing_key(tmp_path / "rogue")
    forged = sign_reply(
        "config",
        a.cfg.device.id,
        {"v": 1, "config_version": 50, "settings": {"objection_window_days": 365}},
        rogue,
    )
    portal.rx.publish_raw(f"perlinsos/v1/kiosk/{a.cfg.device.id}/config", forged, retain=True)
    portal.rx.send_config(a.cfg.device.id, 2, {"objection_window_days": 14})
    wait_for(lambda: a.filing.window_days == 14, 15, "signed window applied")
    assert a.filing.window_days == 14  # the forged 365 never applied


def test_objection_after_the_window_is_rejected_by_the_portal_too(two_kiosks) -> None:
    """A kiosk with a wrong rule sends an objection too late: the portal measures the window
    from its own decision time, keeps the objection as rejected with the reason, and the person
    sees that in the status."""
    a, _b, portal = two_kiosks
    assert portal.rx is not None
    receipt, record_id = a.register()
    wait_for(lambda: a.repo.delivery(record_id) == "acked", 20, "registration acked")
    portal.rx.send_status(a.cfg.device.id, record_id, "eligible")
    token, view = a.check(receipt)
    target = a.status.target(token, view.records[0].registration_id)
    assert target is not None and a.filing.refusal(target) is None
    portal.rx.status_desk.objection_window_days = 0  # the portal's window has closed
    a.filing.begin(token, target)
    a.filing.choose_reason(token, "other")
    objection_id = a.filing.submit(token)
    wait_for(
        lambda: (
            portal.rx is not None
            and portal.rx.status_desk.objection_state(objection_id) is not None
        ),
        20,
        "objection stored",
    )
    assert portal.rx.status_desk.objection_state(objection_id) == (
        "rejected",
        "filed after the objection window closed",
    )
    _t, view = a.check(receipt)
    assert [o.state for o in view.objections] == ["rejected"]
