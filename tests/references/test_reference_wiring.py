"""Wiring for the composition root: handlers on the uplink's signed topics, demo detection."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from ref_helpers import VILLAGE, entries

from kiosk.config import parse_config
from kiosk.core.clock import FakeClock
from kiosk.crypto.atrest import AtRestCipher
from kiosk.crypto.keys import public_pem
from kiosk.references.inbox import ReferenceInbox
from kiosk.references.message import load_trusted_keys, portal_signing_key_path
from kiosk.references.online import OnlineVerifier
from kiosk.references.store import ReferenceStore
from kiosk.references.wiring import attach_to_uplink
from kiosk.store.db import connect
from kiosk.uplink.topics import Name


class FakeUplink:
    """Collects signed-topic handlers; never online."""

    def __init__(self) -> None:
        self.handlers: dict[str, list[Callable[[bytes, bytes | None], object]]] = {}
        self.online = False

    def on_signed(self, name: str, callback: Callable[[bytes, bytes | None], object]) -> None:
        """Remember the handler."""
        self.handlers.setdefault(name, []).append(callback)

    def publish_request(self, kind: str, request_id: str, payload: bytes) -> bool:
        """Never sent."""
        return False

    def push(self, name: str, payload: bytes) -> None:
        """Deliver a message as the relay thread would."""
        for cb in self.handlers[name]:
            cb(payload, None)


class NullSealer:
    """Seals nothing."""

    def seal(self, kind: str, record_id: str, record: dict[str, Any]) -> bytes:
        """Empty envelope."""
        return b"{}"


@pytest.fixture
def kiosk_cfg(tmp_path: Path, portal_key: Ed25519PrivateKey) -> Any:
    cfg = parse_config({"paths": {"data_dir": str(tmp_path)}, "device": {"village_code": VILLAGE}})
    path = portal_signing_key_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_bytes(public_pem(portal_key))
    return cfg


def test_handlers_are_attached_and_install_sets(
    kiosk_cfg: Any,
    tmp_path: Path,
    clock: FakeClock,
    make_set: Callable[..., bytes],
    make_revoke: Callable[..., bytes],
) -> None:
    def trusted() -> list[Ed25519PublicKey]:
        return load_trusted_keys(tmp_path)

    store = ReferenceStore(connect(tmp_path / "k.sqlite3"), AtRestCipher(b"w" * 32), clock)
    inbox = ReferenceInbox(store, trusted=trusted, village_code=VILLAGE, clock=clock)
    uplink = FakeUplink()
    online = OnlineVerifier(
        uplink,
        NullSealer(),
        trusted=trusted,
        device_id=kiosk_cfg.device.id,
        village_code=VILLAGE,
        clock=clock,
    )
    attach_to_uplink(uplink, inbox, online)
    assert set(uplink.handlers) == {Name.REFERENCES, Name.REFERENCES_REVOKE, Name.VERIFY_REPLY}
    assert online.available is False
    uplink.push(Name.REFERENCES, make_set(1))
    assert store.lookup(entries()[0].nik) is not None
    uplink.push(Name.REFERENCES_REVOKE, make_revoke(1))
    assert store.lookup(entries()[0].nik) is None
    uplink.push(Name.VERIFY_REPLY, json.dumps({"v": 1}).encode())  # refused, logged, no crash
    assert online.rejected == 1
    attach_to_uplink(again := FakeUplink(), inbox)  # no online verifier: no verify_reply handler
    assert set(again.handlers) == {Name.REFERENCES, Name.REFERENCES_REVOKE}
