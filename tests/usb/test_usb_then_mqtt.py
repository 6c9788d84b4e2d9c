"""The stick reached the portal, the network came back before the ack file did: the kiosk
resends by MQTT, the portal answers "duplicate" (no second copy), the kiosk purges on those
portal acks, and the late ack file then changes nothing. Real mosquitto."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.core.clock import SystemClock
from kiosk.crypto.keys import load_portal_private_key
from kiosk.references.message import portal_signing_key_path
from kiosk.store.outbox import OutboxRepository
from kiosk.uplink.service import build_uplink
from portal.receiver import device_keys_from_dir
from portal.references import make_signing_key
from portal.store import PortalStore
from portal.usb_import import import_stick, load_signing_key
from tests.fixtures.mqtt import KioskFactory, Pki, Portal, wait_for
from tests.fixtures.records import commit_registrations, open_db
from tests.fixtures.usb import bring_acks_home, export

pytestmark = pytest.mark.broker


def test_stick_then_network_no_duplicate_at_the_portal(
    portal: Portal, kiosk_config: KioskFactory, pki: Pki, tmp_path: Path
) -> None:
    stick = tmp_path / "stick"
    stick.mkdir()
    online = kiosk_config()
    cfg = online.model_copy(
        update={"usb": online.usb.model_copy(update={"mount_point": stick, "require_mount": False})}
    )
    portal.enroll(cfg)
    # one portal signing key for the ack file and (once replies are signed) the MQTT acks
    if getattr(pki, "signing_private", None) is not None:
        signing = load_signing_key(pki.signing_private)  # type: ignore[attr-defined]
        public = pki.signing_public  # type: ignore[attr-defined]
    else:
        signing, public = make_signing_key(tmp_path / "signing")
    trusted = portal_signing_key_path(cfg.paths.data_dir)
    trusted.parent.mkdir(parents=True, exist_ok=True)
    trusted.write_bytes(public.read_bytes())
    ids = commit_registrations(cfg, 15)

    export(cfg)  # kiosk offline: the uplink has not started
    side = PortalStore(portal.db)
    try:
        [report] = import_stick(
            stick,
            side,
            private_key=load_portal_private_key(pki.portal_private),
            device_keys=device_keys_from_dir(portal.keys_dir),
            signing_key=signing,
        )
    finally:
        side.close()
    assert report.stored == 15

    up = build_uplink(cfg, SystemClock())
    up.start()
    try:
        repo = OutboxRepository(open_db(cfg))
        wait_for(lambda: repo.counts().acked == 15, 20, "MQTT duplicates acked")
    finally:
        up.stop()
    assert sorted(portal.record_ids(cfg.device.id)) == sorted(ids)  # once each

    late = bring_acks_home(cfg)
    assert (late.acked, late.unchanged, late.refused) == (0, 15, [])
