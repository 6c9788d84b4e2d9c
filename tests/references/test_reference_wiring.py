"""Wiring for the composition root: handlers on the uplink's signed topics, demo detection."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from ref_helpers import VILLAGE, entries

from kiosk.config import parse_config
from kiosk.core.clock import FakeClock
from kiosk.crypto.atrest import AtRestCipher
from kiosk.crypto.keys import public_pem
from kiosk.references.demo import demo_mode
from kiosk.references.message import portal_signing_key_path
from kiosk.references.wiring import build_references
from kiosk.store.db import connect


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
    uplink = FakeUplink()
    refs = build_references(
        kiosk_cfg,
        conn=connect(tmp_path / "k.sqlite3"),
        cipher=AtRestCipher(b"w" * 32),
        clock=clock,
        uplink=uplink,
        sealer=NullSealer(),
        demo=False,
    )
    assert set(uplink.handlers) == {"references", "references_revoke", "verify_reply"}
    assert refs.online is not None and refs.online.available is False and refs.demo is None
    uplink.push("references", make_set(1))
    assert refs.store.lookup(entries()[0].nik) is not None
    uplink.push("references_revoke", make_revoke(1))
    assert refs.store.lookup(entries()[0].nik) is None
    uplink.push("verify_reply", json.dumps({"v": 1}).encode())  # refused, logged, no crash
    assert refs.online.rejected == 1


def test_without_sealer_no_online_and_expired_sets_are_purged_at_start(
    kiosk_cfg: Any, tmp_path: Path, clock: FakeClock, make_set: Callable[..., bytes]
) -> None:
    db = tmp_path / "k.sqlite3"
    first = build_references(
        kiosk_cfg, conn=connect(db), cipher=AtRestCipher(b"w" * 32), clock=clock, demo=False
    )
    assert first.online is None
    assert first.inbox.on_reference_set(make_set(1, ttl_s=60))
    clock.advance(61)
    uplink = FakeUplink()
    again = build_references(
        kiosk_cfg,
        conn=connect(db),
        cipher=AtRestCipher(b"w" * 32),
        clock=clock,
        uplink=uplink,
        demo=False,
    )
    assert set(uplink.handlers) == {"references", "references_revoke"}
    info = again.store.info()
    assert info is not None and info.state == "expired"


@pytest.mark.parametrize(
    ("camera", "expected"),
    [
        ({"backend": "replay"}, True),
        ({"backend": "replay", "replay_source": "/tmp/elsewhere"}, False),
        ({"backend": "opencv"}, False),
        ({"backend": "picamera2"}, False),
    ],
)
def test_demo_mode(camera: dict[str, str], expected: bool) -> None:
    assert demo_mode(parse_config({"camera": camera})) is expected
