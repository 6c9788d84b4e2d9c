"""Helpers for the recipient list, reports and proposals tests: a real SQLite store, real agents."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.agents import AgentService
from kiosk.core.clock import FakeClock
from kiosk.crypto.atrest import AtRestCipher
from kiosk.crypto.signed import sign_message
from kiosk.reports.recipients import RecipientInbox, RecipientStore
from kiosk.reports.service import CommunityService
from kiosk.store.db import connect
from tests.fixtures.app import compose, kiosk_cfg, outbox_records
from tests.fixtures.community import DUSUN, listed_households

VILLAGE = "3510012001"
PIN = "135790"
DW_PIN = "246801"
TEMPLATE = bytes(range(256)) * 2
NIK = "3510014501580001"
KK = "3510011203150001"
TODAY = dt.date(2026, 5, 29)


def households(n: int = 14) -> list[dict[str, Any]]:
    """``n`` recipient households over three dusun."""
    return listed_households(n)


def signed_list(key: Ed25519PrivateKey, version: int = 1, **over: Any) -> bytes:
    body: dict[str, Any] = {
        "village_code": VILLAGE,
        "list_version": version,
        "issued_at": 1_780_000_000,
        "dusun": DUSUN,
        "households": households(),
    }
    body.update(over)
    # signed without sign_list's own checks: a buggy or hostile portal
    return sign_message({"v": 1, "kind": "recipients", **body}, key)


@dataclass
class Kit:
    clock: FakeClock
    conn: Any
    key: Ed25519PrivateKey
    store: RecipientStore
    inbox: RecipientInbox
    agents: AgentService
    svc: CommunityService

    def outbox(self, kind: str) -> list[dict[str, Any]]:
        return outbox_records(self.conn, kind)

    def login(self, agent: str = "AG-PKH-01", pin: str = PIN) -> str:
        return self.agents.login(agent, pin)


def make_kit(path: Path, clock: FakeClock, data_key: bytes) -> Kit:
    """The agent and community services over ``path``, built by the composition root."""
    cfg = kiosk_cfg(
        path.parent,
        device={"id": "kiosk-test-01", "village_code": VILLAGE},
        agents={"pin_max_delay_s": 600.0},
    )
    graph = compose(cfg, connect(path), clock, cipher=AtRestCipher(data_key), lookup_key=b"k" * 32)
    agents = graph.agents(lambda template: "HIGH")
    key = Ed25519PrivateKey.generate()
    store = RecipientStore(graph.conn, graph.cipher, clock)
    inbox = RecipientInbox(store, trusted=lambda: [key.public_key()], village_code=VILLAGE)
    return Kit(clock, graph.conn, key, store, inbox, agents, graph.community(agents))
