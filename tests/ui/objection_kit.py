"""Objections added to a UI test kit through the composition root's own ``build_services``
(the parts it takes in production: an objection store, the camera's JPEG, the audit log)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ui_kit import Kit

from kiosk.app import ServiceParts, build_services
from kiosk.config import KioskConfig
from kiosk.crypto.atrest import AtRestCipher
from kiosk.services.registration import DeviceInfo
from kiosk.store.db import connect
from kiosk.store.objections import ObjectionRepository
from kiosk.store.outbox import OutboxRepository
from ui import services


def with_objections(
    kit: Kit,
    cfg: KioskConfig,
    tmp_path: Path,
    photo: Callable[[], bytes | None],
    agents: Any = None,
    microphone: Any = None,
) -> ObjectionRepository:
    """Give ``kit``'s app the status check and objection service ``build_services`` makes when
    the kiosk has an objection store (``agents``: the agent service whose audit log is used;
    ``microphone``: the spoken notes' microphone, e.g. kiosk.audio.tone.ToneMicrophone)."""
    conn = connect(tmp_path / "kiosk.sqlite3")
    objections = ObjectionRepository(conn, OutboxRepository(conn))
    audit = agents.audit if agents is not None else None
    built = build_services(
        cfg,
        ServiceParts(
            clock=kit.clock,
            verifier=kit.verifier,
            sealer=kit.sealer,
            cipher=AtRestCipher(os.urandom(32)),
            lookup_key=kit.lookup_key,
            repo=kit.repo,
            device=DeviceInfo(cfg.device.id, cfg.device.village_code, "test", "boot-1"),
            data_dir=tmp_path,
            audit=audit.record if audit is not None else None,
            audit_tx=audit.append if audit is not None else None,
            objections=objections,
            photo=photo,
            microphone=microphone,
        ),
    )
    ui = services(kit.app)
    ui.status, ui.objections, ui.voice = built.status, built.objections, built.voice
    kit.status = built.status
    return objections
