"""The objection service added to a UI test kit, as the composition root wires it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ui_kit import Kit

from kiosk.config import KioskConfig
from kiosk.core.session import Timeouts
from kiosk.services.objection import ObjectionService
from kiosk.services.status import StatusService
from kiosk.store.db import connect
from kiosk.store.objections import ObjectionRepository
from kiosk.store.outbox import OutboxRepository
from ui import services


def with_objections(
    kit: Kit,
    cfg: KioskConfig,
    tmp_path: Path,
    photo: Callable[[], bytes | None],
    audit: Callable[..., object] | None = None,
) -> ObjectionRepository:
    """Give ``kit``'s app a status check that knows objections, and the objection service."""
    conn = connect(tmp_path / "kiosk.sqlite3")
    objections = ObjectionRepository(conn, OutboxRepository(conn))
    filing = ObjectionService(
        clock=kit.clock,
        repo=objections,
        sealer=kit.sealer,
        lookup_key=kit.lookup_key,
        device_id=cfg.device.id,
        boot_id="boot-1",
        photo=photo,
        audit=audit,
    )
    ui = services(kit.app)
    assert ui.status is not None
    status = StatusService(
        clock=kit.clock,
        timeouts=Timeouts(cfg.ui.inactivity_warning_s, cfg.ui.inactivity_grace_s),
        nik_parser=ui.status._parse_nik,
        verifier=kit.verifier,
        repo=kit.repo,
        lookup_key=kit.lookup_key,
        objections=objections,
    )
    status.on_end(filing.discard)
    ui.status, ui.objections = status, filing
    kit.status = status
    return objections
