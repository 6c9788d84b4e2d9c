"""Plug a real :class:`UsbService` (real sealed records, a folder as the stick, a real portal
import) into a UI kit."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ui_kit import Kit

from kiosk.app import build_usb
from kiosk.config import UsbConfig
from kiosk.core.clock import SystemClock
from kiosk.crypto.envelope import EnvelopeSealer
from kiosk.crypto.keys import load_or_create_device_key, load_portal_public_key, public_pem
from kiosk.references.message import load_signing_public_key
from kiosk.store.db import connect
from kiosk.store.outbox import OutboxRepository
from kiosk.store.registrations import RegistrationRepository
from kiosk.usb.service import UsbService
from tests.fixtures.records import commit_registrations
from tests.fixtures.usb import PortalSide, make_portal
from ui import services

DEVICE = "kiosk-test-01"


@dataclass
class Usb:
    """The USB service in the kit, its stick, and the portal the stick is carried to."""

    svc: UsbService
    stick: Path
    portal: PortalSide
    db: Path

    def seed(self, n: int) -> list[str]:
        """Commit ``n`` registrations sealed to the portal (as the registration service does)."""
        sealer = EnvelopeSealer(
            device_id=DEVICE,
            portal_public_key=load_portal_public_key(self.portal.public_key),
            device_private_key=load_or_create_device_key(self.db.parent / "usb-keys"),
        )
        conn = connect(self.db)
        return commit_registrations(
            Any,  # type: ignore[arg-type]  # unused when sealer and repo are given
            n,
            sealer=sealer,
            repo=RegistrationRepository(conn),
        )

    def outbox(self) -> OutboxRepository:
        """The kit's outbox."""
        return OutboxRepository(connect(self.db))


def attach_usb(kit: Kit, tmp_path: Path) -> Usb:
    """Build the USB service (through the composition root's ``build_usb``) over the kit's
    database, stick ``<tmp>/stick``, and a portal that enrolled the kiosk's device key."""
    stick = tmp_path / "stick"
    stick.mkdir(exist_ok=True)
    portal = make_portal(tmp_path / "portal")
    base = services(kit.app).cfg
    cfg = base.model_copy(
        update={
            "usb": UsbConfig(mount_point=stick, require_mount=False),
            "device": base.device.model_copy(update={"id": DEVICE}),
            "paths": base.paths.model_copy(update={"data_dir": tmp_path / "usb-keys"}),
        }
    )
    key = load_or_create_device_key(cfg.paths.data_dir)
    (portal.keys_dir / f"{DEVICE}.pem").write_bytes(public_pem(key))
    trusted = [load_signing_public_key(portal.signing_public)]
    db = tmp_path / "kiosk.sqlite3"
    svc = build_usb(cfg, SystemClock(), db, trusted=lambda: trusted)
    services(kit.app).extra["usb"] = svc
    return Usb(svc, stick, portal, db)
