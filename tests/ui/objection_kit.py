"""Objections added to a UI test kit through the composition root's own ``build_services``
(the parts it takes in production: an objection store, the camera's JPEG, the audit log)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ui_kit import Kit

from kiosk.config import KioskConfig
from kiosk.store.db import connect
from kiosk.store.objections import ObjectionRepository
from tests.fixtures.app import compose
from ui import services


def with_objections(
    kit: Kit,
    cfg: KioskConfig,
    tmp_path: Path,
    photo: Callable[[], bytes | None],
    agents: Any = None,
    portal_status: Any = None,
    microphone: Any = None,
) -> ObjectionRepository:
    """Give ``kit``'s app the status check and objection service ``build_services`` makes when
    the kiosk has an objection store (``agents``: the agent service whose audit log is used;
    ``portal_status``: the status query to the portal, None for this kiosk's record only;
    ``microphone``: the spoken notes' microphone, e.g. kiosk.audio.tone.ToneMicrophone)."""
    audit = agents.audit if agents is not None else None
    built = compose(
        cfg,
        connect(tmp_path / "kiosk.sqlite3"),
        kit.clock,
        verifier=kit.verifier,
        sealer=kit.sealer,
        cipher=kit.graph.cipher,
        lookup_key=kit.lookup_key,
        audit=audit.record if audit is not None else None,
        audit_tx=audit.append if audit is not None else None,
        photo=photo,
        portal_status=portal_status,
        microphone=microphone,
    )
    objections = built.parts.objections
    assert objections is not None
    ui = services(kit.app)
    ui.status, ui.objections, ui.voice = built.status, built.filing, built.services.voice
    kit.status = built.status
    return objections
