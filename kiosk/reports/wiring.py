"""Build the recipient list, reports and proposals from configuration (kiosk.app calls it)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from kiosk.agents.service import AgentService
from kiosk.config import KioskConfig
from kiosk.core.clock import Clock
from kiosk.crypto.atrest import AtRestCipher
from kiosk.references.wiring import SignedTopics
from kiosk.reports.recipients import RecipientInbox, RecipientStore
from kiosk.reports.service import CommunityService
from kiosk.services.ports import Sealer
from kiosk.store.db import connect
from kiosk.store.outbox import OutboxRepository
from kiosk.uplink.topics import Name


def build_community(
    cfg: KioskConfig,
    *,
    conn: sqlite3.Connection,
    db_path: Path,
    cipher: AtRestCipher,
    clock: Clock,
    outbox: OutboxRepository,
    agents: AgentService,
    sealer: Sealer,
    lookup_key: bytes,
    trusted: Callable[[], Sequence[Ed25519PublicKey]],
    uplink: SignedTopics | None,
) -> CommunityService:
    """The service over ``conn``; with an uplink, the ``recipients`` topic installs lists
    through their own connection (the relay thread writes them)."""
    if uplink is not None:
        inbox = RecipientInbox(
            RecipientStore(connect(db_path), cipher, clock),
            trusted=trusted,
            village_code=cfg.device.village_code,
        )
        uplink.on_signed(Name.RECIPIENTS, inbox)
    return CommunityService(
        conn=conn,
        outbox=outbox,
        store=RecipientStore(conn, cipher, clock),
        agents=agents,
        sealer=sealer,
        clock=clock,
        lookup_key=lookup_key,
        device_id=cfg.device.id,
        village_code=cfg.device.village_code,
    )
