"""Kiosk -> broker (TLS, ACL) -> portal and back, against a real mosquitto."""

from __future__ import annotations

import pytest

from kiosk.config import KioskConfig
from kiosk.core.clock import SystemClock
from kiosk.store.outbox import OutboxRepository
from kiosk.store.registrations import RegistrationRepository
from kiosk.uplink.inbound import ConfigUpdate, StatusUpdate
from kiosk.uplink.service import Uplink, build_uplink
from tests.fixtures.mqtt import KioskFactory, Portal, wait_for
from tests.fixtures.records import commit_registrations, open_db

pytestmark = pytest.mark.broker


def _acked(cfg: KioskConfig) -> int:
    return OutboxRepository(open_db(cfg)).counts().acked


def test_records_reach_the_portal_once_and_are_acked(
    portal: Portal, kiosk_config: KioskFactory
) -> None:
    cfg = kiosk_config()
    portal.enroll(cfg)
    ids = commit_registrations(cfg, 20)
    up = build_uplink(cfg, SystemClock())
    statuses: list[StatusUpdate] = []
    up.on_status(statuses.append)
    up.start()
    try:
        wait_for(lambda: _acked(cfg) == 20, 20, "all acked")
        assert sorted(portal.record_ids()) == sorted(ids)
        assert up.pending_count() == 0 and up.online
        conn = open_db(cfg)
        # templates are purged once the portal holds the record
        wait_for(
            lambda: (
                conn.execute(
                    "SELECT COUNT(*) FROM registration WHERE template_sealed IS NOT NULL"
                ).fetchone()[0]
                == 0
            ),
            10,
            "templates purged",
        )
        # the ack means "received"; a later decision arrives as a status message
        assert (
            conn.execute("SELECT COUNT(*) FROM registration WHERE status = 'received'").fetchone()[
                0
            ]
            == 20
        )
        assert portal.rx is not None
        portal.rx.send_status(cfg.device.id, ids[0], "not_eligible", "income above threshold")
        wait_for(
            lambda: (
                conn.execute(
                    "SELECT status, status_reason FROM registration WHERE record_id = ?", (ids[0],)
                ).fetchone()
                == ("not_eligible", "income above threshold")
            ),
            10,
            "status stored",
        )
        assert [(x.record_id, x.status) for x in statuses] == [(ids[0], "not_eligible")]
        got = portal.rx.store.get(cfg.device.id, ids[0])
        assert got is not None and got["nik"].startswith("3510")
        wait_for(lambda: portal.rx.store.availability_of(cfg.device.id) == "online", 10)  # type: ignore[union-attr]
        wait_for(lambda: portal.rx.store.latest_heartbeat(cfg.device.id) is not None, 10)  # type: ignore[union-attr]
        beat = portal.rx.store.latest_heartbeat(cfg.device.id)
        assert beat is not None and beat["queue_depth"] >= 0 and "clock" in beat
    finally:
        up.stop()
    wait_for(lambda: portal.rx.store.availability_of(cfg.device.id) == "offline", 10)  # type: ignore[union-attr]


def test_config_is_validated_and_applied(portal: Portal, kiosk_config: KioskFactory) -> None:
    cfg = kiosk_config()
    portal.enroll(cfg)
    up = build_uplink(cfg, SystemClock())
    got: list[ConfigUpdate] = []
    up.on_config(got.append)
    up.start()
    try:
        wait_for(lambda: up.online, 10)
        assert portal.rx is not None
        portal.rx.send_config(cfg.device.id, 2, {"registration_open": False})
        wait_for(lambda: got, 10, "config")
        assert got[0].version == 2 and got[0].settings == {"registration_open": False}
        portal.rx.send_config(cfg.device.id, 1, {"registration_open": True})  # older: refused
        portal.rx.publish_raw(
            f"perlinsos/v1/kiosk/{cfg.device.id}/config",
            b'{"v":2,"config_version":9,"settings":{}}',
        )
        portal.rx.send_config(cfg.device.id, 3, {"heartbeat_s": 30})
        wait_for(lambda: len(got) == 2, 10, "second config")
        assert got[1].version == 3
        assert up.rejected_inbound >= 1
    finally:
        up.stop()


def test_disabled_uplink_keeps_records_waiting(kiosk_config: KioskFactory) -> None:
    cfg = kiosk_config(enabled=False)
    commit_registrations(cfg, 3)
    up = Uplink(cfg, lambda: open_db(cfg), SystemClock())
    up.start()
    assert up.pending_count() == 3 and not up.online
    up.stop()
    assert RegistrationRepository(open_db(cfg)).count() == 3
