"""Helpers for the recipient list, reports and proposals tests: a real SQLite store, real agents."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.agents import AgentService, build_agent_service
from kiosk.core.clock import FakeClock
from kiosk.core.throttle import ThrottlePolicy
from kiosk.crypto.atrest import AtRestCipher
from kiosk.crypto.signed import sign_message
from kiosk.reports.recipients import RecipientInbox, RecipientStore
from kiosk.reports.service import CommunityService
from kiosk.store.db import connect
from kiosk.store.outbox import OutboxRepository

VILLAGE = "3510012001"
PIN = "135790"
DW_PIN = "246801"
TEMPLATE = bytes(range(256)) * 2
NIK = "3510014501580001"
KK = "3510011203150001"
TODAY = dt.date(2026, 5, 29)


class JsonSealer:
    """Seals nothing: JSON the test can read back."""

    def seal(self, kind: str, record_id: str, record: dict[str, Any]) -> bytes:
        return json.dumps({"kind": kind, "record_id": record_id, "record": record}).encode()


def households(n: int = 14) -> list[dict[str, Any]]:
    """``n`` recipient households over three dusun."""
    dusun = ["Krajan", "Sumberejo", "Tegalsari"]
    return [
        {
            "ref": f"H{i:04d}",
            "name": f"Kepala Keluarga {chr(65 + i % 26)}{i}",
            "dusun": dusun[i % 3],
            "rt": str(1 + i % 4),
            "programmes": ["pkh"] if i % 2 else ["bpnt", "pbi_jk"],
        }
        for i in range(n)
    ]


def signed_list(key: Ed25519PrivateKey, version: int = 1, **over: Any) -> bytes:
    body: dict[str, Any] = {
        "village_code": VILLAGE,
        "list_version": version,
        "issued_at": 1_780_000_000,
        "dusun": ["Krajan", "Sumberejo", "Tegalsari"],
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
        rows = self.conn.execute(
            "SELECT payload FROM outbox WHERE kind = ? ORDER BY seq", (kind,)
        ).fetchall()
        return [json.loads(r[0])["record"] for r in rows]

    def login(self, agent: str = "AG-PKH-01", pin: str = PIN) -> str:
        return self.agents.login(agent, pin)


def make_kit(path: Path, clock: FakeClock, data_key: bytes) -> Kit:
    conn = connect(path)
    cipher = AtRestCipher(data_key)
    outbox = OutboxRepository(conn)
    agents = build_agent_service(
        conn=conn,
        cipher=cipher,
        lookup_key=b"k" * 32,
        sealer=JsonSealer(),
        clock=clock,
        device_id="kiosk-test-01",
        matcher=lambda template: "HIGH",
        policy=ThrottlePolicy(5, 30.0, 600.0),
        outbox=outbox,
    )
    agents.accounts.params = "scrypt:1024:8:1"
    key = Ed25519PrivateKey.generate()
    store = RecipientStore(conn, cipher, clock)
    inbox = RecipientInbox(store, trusted=lambda: [key.public_key()], village_code=VILLAGE)
    svc = CommunityService(
        conn=conn,
        outbox=outbox,
        store=store,
        agents=agents,
        sealer=JsonSealer(),
        clock=clock,
        lookup_key=b"k" * 32,
        device_id="kiosk-test-01",
        village_code=VILLAGE,
    )
    return Kit(clock, conn, key, store, inbox, agents, svc)
