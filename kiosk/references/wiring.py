"""Build the reference parts from configuration and connect them to the uplink (kiosk.app)."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from kiosk.config import KioskConfig
from kiosk.core.clock import Clock
from kiosk.crypto.atrest import AtRestCipher
from kiosk.references.demo import DemoVillage, demo_mode, ensure_demo_references
from kiosk.references.inbox import ReferenceInbox
from kiosk.references.message import load_trusted_keys
from kiosk.references.online import OnlineVerifier, VerifyTransport
from kiosk.references.store import ReferenceStore
from kiosk.services.ports import Sealer
from kiosk.uplink.topics import Name

log = logging.getLogger(__name__)


class SignedTopics(Protocol):
    """What is needed from :class:`kiosk.uplink.service.Uplink`."""

    def on_signed(self, name: str, callback: Callable[[bytes, bytes | None], object]) -> None:
        """Register a handler for a portal-signed topic."""
        ...


class Uplinkish(SignedTopics, VerifyTransport, Protocol):
    """The uplink as both a source of signed messages and a request transport."""


def attach_to_uplink(
    uplink: SignedTopics, inbox: ReferenceInbox | None, online: OnlineVerifier | None = None
) -> None:
    """Route ``references`` / ``references_revoke`` to ``inbox`` and ``verify_reply`` to
    ``online`` (all on the uplink's relay thread)."""
    if inbox is not None:
        uplink.on_signed(Name.REFERENCES, lambda payload, _corr: inbox.on_reference_set(payload))
        uplink.on_signed(Name.REFERENCES_REVOKE, lambda payload, _corr: inbox.on_revoke(payload))
    if online is not None:
        uplink.on_signed(Name.VERIFY_REPLY, online.deliver)


@dataclass(frozen=True)
class References:
    """Everything the composition root needs for identity references."""

    store: ReferenceStore
    inbox: ReferenceInbox
    online: OnlineVerifier | None
    demo: DemoVillage | None


def build_references(
    cfg: KioskConfig,
    *,
    conn: sqlite3.Connection,
    cipher: AtRestCipher,
    clock: Clock,
    uplink: Uplinkish | None = None,
    sealer: Sealer | None = None,
    pipeline: object | None = None,
    demo: bool | None = None,
    online_timeout_s: float = 8.0,
) -> References:
    """Store, inbox and (with an uplink and a sealer) the online verifier, wired together;
    expired sets purged; the demo village installed when ``demo`` (default: :func:`demo_mode`)
    and a ``pipeline`` are given. ``conn`` should be this module's own connection: the inbox
    writes from the uplink's relay thread."""
    data_dir = cfg.paths.data_dir

    def trusted() -> list[Ed25519PublicKey]:
        return load_trusted_keys(data_dir)

    store = ReferenceStore(conn, cipher, clock)
    inbox = ReferenceInbox(
        store, trusted=trusted, village_code=cfg.device.village_code, clock=clock
    )
    inbox.housekeeping()
    online = None
    if uplink is not None and sealer is not None:
        online = OnlineVerifier(
            uplink,
            sealer,
            trusted=trusted,
            device_id=cfg.device.id,
            village_code=cfg.device.village_code,
            clock=clock,
            timeout_s=online_timeout_s,
        )
    if uplink is not None:
        attach_to_uplink(uplink, inbox, online)
    village = None
    if pipeline is not None and (demo_mode(cfg) if demo is None else demo):
        from kiosk.vision.pipeline import FacePipeline

        assert isinstance(pipeline, FacePipeline)
        village = ensure_demo_references(cfg, store, pipeline)
    return References(store, inbox, online, village)
